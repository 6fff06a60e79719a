"""An independent check of the Step Functions state machines: every statemachines/*.asl.json,
with its definition substitutions filled in, must pass `asl-validator` (the npm package pinned in
package-lock.json, installed into ./node_modules by `make test`), use no Lambda task, and declare
exactly the placeholders its AWS::StepFunctions::StateMachine resource in infra/resources.json
substitutes."""
import copy
import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text())
MACHINES = sorted((ROOT / "statemachines").glob("*.asl.json"))
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_:.]+)\}")
IDS = [path.name for path in MACHINES]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def plausible(name: str) -> str:
    if name.endswith("QueueUrl"):
        return "https://sqs.us-east-1.amazonaws.com/123456789012/approval-workflow"
    if name.endswith("Arn"):
        return f"arn:aws:sqs:us-east-1:123456789012:{name[:-3] or 'resource'}"
    return f"{name}-value"


def substituted(path: Path) -> str:
    return PLACEHOLDER.sub(lambda match: plausible(match.group(1)), path.read_text())


def validate(definition: str, tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    assert VALIDATOR.exists(), (
        f"{VALIDATOR} is missing: `make test` installs it (npm ci from package-lock.json)")
    target = tmp_path / name
    target.write_text(definition)
    return subprocess.run([str(VALIDATOR), "--json-path", str(target)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def state_machine_resources(path: Path) -> list:
    return [resource for resource in TEMPLATE["Resources"].values()
            if resource.get("Type") == "AWS::StepFunctions::StateMachine"
            and resource.get("Properties", {}).get("DefinitionS3Location") == relative(path)]


def test_there_are_state_machines():
    assert MACHINES, "no statemachines/*.asl.json found"


@pytest.mark.parametrize("path", MACHINES, ids=IDS)
def test_state_machine_passes_asl_validator(path, tmp_path):
    result = validate(substituted(path), tmp_path, path.name)
    assert result.returncode == 0, (
        f"asl-validator rejected {relative(path)} (exit {result.returncode}):\n"
        f"{result.stdout}{result.stderr}")


@pytest.mark.parametrize("path", MACHINES, ids=IDS)
def test_state_machine_uses_no_lambda_task(path):
    text = path.read_text()
    for lambda_resource in ("arn:aws:states:::lambda", "arn:aws:lambda:"):
        assert lambda_resource not in text, f"{relative(path)} uses a Lambda task"


@pytest.mark.parametrize("path", MACHINES, ids=IDS)
def test_placeholders_match_definition_substitutions(path):
    resources = state_machine_resources(path)
    assert len(resources) == 1, (
        f"expected one AWS::StepFunctions::StateMachine with DefinitionS3Location "
        f"{relative(path)!r} in infra/resources.json, found {len(resources)}")
    declared = set(resources[0]["Properties"].get("DefinitionSubstitutions", {}))
    used = set(PLACEHOLDER.findall(path.read_text()))
    assert used - declared == set(), f"placeholders not in DefinitionSubstitutions: {used - declared}"
    assert declared - used == set(), f"DefinitionSubstitutions never used: {declared - used}"


def first_next(node):
    """The first dict in the definition (depth first) that has a "Next"."""
    if isinstance(node, dict):
        if isinstance(node.get("Next"), str):
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = first_next(child)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("path", MACHINES, ids=IDS)
def test_validator_rejects_a_broken_transition(path, tmp_path):
    """Proves the check can fail: the same machine with one Next pointing nowhere is rejected."""
    broken = copy.deepcopy(json.loads(substituted(path)))
    transition = first_next(broken)
    if transition is None:
        pytest.skip(f"{relative(path)} has no Next to break")
    transition["Next"] = "NoSuchState"
    result = validate(json.dumps(broken), tmp_path, "broken-" + path.name)
    assert result.returncode != 0, (
        f"asl-validator accepted a transition to a missing state:\n{result.stdout}{result.stderr}")
    assert "NoSuchState" in result.stdout + result.stderr
