"""The deployment guide (docs/deployment.md) says the truth: its make targets exist, its
commands name the templates `make package` writes and the capabilities they need, and every
parameter of both templates is in its table with its default, the overrides it shows valid."""
import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def commands():
    """The shell commands of the guide's sh blocks, continuation lines joined."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", GUIDE, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("#", 1)[0].strip()
            if command:
                found.append(shlex.split(command))
    return found


def parameter_rows():
    rows = {}
    for line in GUIDE.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = {"variant": cells[1], "default": cells[2]}
    return rows


def test_every_make_target_the_guide_uses_exists():
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE, re.M))
    used = [c for c in commands() if c[0] == "make"]
    assert used, "the guide builds with make"
    for command in used:
        assert command[1] in targets, command
        for assignment in command[2:]:
            variable = assignment.split("=", 1)[0]
            assert f"$({variable})" in MAKEFILE, assignment
    assert "PARAMS_CN" in GUIDE and "$(PARAMS_CN)" in MAKEFILE


def test_the_aws_commands_name_what_make_package_writes_and_the_capabilities(templates):
    aws = [c for c in commands() if c[0] == "aws"]
    package = next(c for c in aws if c[1:3] == ["cloudformation", "package"])
    deploy = next(c for c in aws if c[1:3] == ["cloudformation", "deploy"])
    assert package[package.index("--template-file") + 1] == "build/cloud/template.json"
    assert deploy[deploy.index("--template-file") + 1] == \
        package[package.index("--output-template-file") + 1]
    assert "--s3-bucket" in deploy      # the template is over the inline size limit
    assert len(json.dumps(templates["global"])) > 51_200
    capabilities = set(deploy[deploy.index("--capabilities") + 1:
                              deploy.index("--parameter-overrides")])
    global_ = templates["global"]
    if any(r["Type"] == "AWS::IAM::Role" for r in global_["Resources"].values()):
        assert "CAPABILITY_IAM" in capabilities
    if global_.get("Transform"):
        assert "CAPABILITY_AUTO_EXPAND" in capabilities
    # Named IAM resources would need CAPABILITY_NAMED_IAM: the template names none.
    assert not any("RoleName" in r.get("Properties", {}) for r in global_["Resources"].values()
                   if r["Type"] == "AWS::IAM::Role")


def test_every_parameter_of_both_templates_is_in_the_guides_table(templates):
    rows = parameter_rows()
    for variant, template in templates.items():
        for name, parameter in template.get("Parameters", {}).items():
            assert name in rows, f"{name} ({variant}) is not in docs/deployment.md"
            row = rows[name]
            assert row["variant"] in ("both", variant), (name, row)
            if "Default" not in parameter:
                assert row["default"] == "required", (name, row)
            elif name in row["default"] or "`" in row["default"]:
                assert f"`{parameter['Default']}`" in row["default"], (name, row)
    both = {n for n, r in rows.items() if r["variant"] == "both"}
    for variant, template in templates.items():
        assert both <= set(template.get("Parameters", {})), variant
    assert set(rows) <= set(templates["global"]["Parameters"]) | \
        set(templates["china"]["Parameters"])


def test_the_overrides_the_guide_shows_are_valid_values(templates):
    deploy = next(c for c in commands() if c[:3] == ["aws", "cloudformation", "deploy"])
    overrides = deploy[deploy.index("--parameter-overrides") + 1:]
    parameters = templates["global"]["Parameters"]
    given = dict(o.split("=", 1) for o in overrides)
    assert {n for n, p in parameters.items() if "Default" not in p} <= set(given)
    for name, value in given.items():
        parameter = parameters[name]
        if "AllowedValues" in parameter:
            assert value in parameter["AllowedValues"], name
        if "AllowedPattern" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], value), name


def test_the_readme_links_the_guide():
    assert "docs/deployment.md" in (ROOT / "README.md").read_text(encoding="utf-8")
