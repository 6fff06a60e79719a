"""The packaged templates pass a maintained IaC scanner: checkov (in a virtualenv of its own,
.venv-checkov, which `make test` installs from requirements-checkov.txt) reports no failed check
on either variant, and every check it skips is a waiver of infra/checkov-waivers.yaml, with its
reason, that is still needed."""
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from infra import hardening

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
VARIANTS = {"global": "cloud", "china": "cloud-cn"}


def scan(template: Path) -> dict:
    """checkov's JSON report of one template, offline (no platform download, no update check)."""
    run = subprocess.run(
        [str(CHECKOV), "--file", str(template), "--framework", "cloudformation",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"})
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-4000:]   # 1: failed checks
    report = json.loads(run.stdout)
    assert isinstance(report, dict) and report["check_type"] == "cloudformation", report
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["passed"] > 0, report["summary"]
    return report


def logical_id(result: dict) -> str:
    return result["resource"].split(".", 1)[1]      # "AWS::S3::Bucket.MaterialsBucket"


def describe(results: list[dict]) -> str:
    return "\n".join(f"  {r['check_id']} {r['resource']} ({r['file_path']} lines "
                     f"{r['file_line_range']}): {r['check_name']}" for r in results)


@pytest.fixture(scope="module")
def packaged(built):
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed in {CHECKOV.parent.parent}: `make test` installs it "
                    "(make .venv-checkov/.installed)")
    return {variant: folder / "template.json" for variant, folder in built.items()}


@pytest.fixture(scope="module")
def unwaived(packaged):
    """The same templates without the waivers that infra/hardening.py writes into them."""
    stripped = {}
    for variant, path in packaged.items():
        template = json.loads(path.read_text())
        for resource in template["Resources"].values():
            resource.get("Metadata", {}).pop("checkov", None)
        stripped[variant] = path.with_name("unwaived.json")
        stripped[variant].write_text(json.dumps(template, indent=2, ensure_ascii=False))
    return stripped


@pytest.fixture(scope="module")
def reports(packaged, unwaived):
    """checkov's reports of the packaged templates and of the unwaived ones, two at a time."""
    jobs = {**{(variant, "packaged"): path for variant, path in packaged.items()},
            **{(variant, "unwaived"): path for variant, path in unwaived.items()}}
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(jobs, pool.map(scan, jobs.values())))
    return done


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_checkov_reports_no_failed_check(reports, variant):
    failed = reports[variant, "packaged"]["results"]["failed_checks"]
    assert not failed, (f"checkov: {len(failed)} failed check(s) in the {variant} template; fix "
                        "them (infra/hardening.py) or waive them with a reason in "
                        "infra/checkov-waivers.yaml:\n" + describe(failed))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_skipped_check_is_a_waiver_of_the_file_with_its_reason(reports, packaged,
                                                                      variant):
    waivers = hardening.load_waivers()
    resources = json.loads(packaged[variant].read_text())["Resources"]
    skipped = reports[variant, "packaged"]["results"].get("skipped_checks", [])
    assert skipped
    for result in skipped:
        name = logical_id(result)
        reasons = {" ".join(w["reason"].split()) for w in waivers if w["check"] ==
                   result["check_id"] and hardening.covers(w, name, resources[name])}
        assert result["check_result"].get("suppress_comment") in reasons, describe([result])


def test_every_waiver_names_its_check_its_resources_and_a_reason():
    document = yaml.safe_load(hardening.WAIVERS.read_text(encoding="utf-8"))
    assert set(document) == {"waivers"}
    assert document["waivers"]
    for waiver in document["waivers"]:
        assert set(waiver) in ({"check", "reason", "resources"}, {"check", "reason", "types"}), \
            waiver
        assert re.fullmatch(r"CKV2?_AWS_\d+", waiver["check"]), waiver
        covered = waiver.get("resources") or waiver.get("types")
        assert isinstance(covered, list) and covered and all(
            isinstance(item, str) and item for item in covered), waiver
        assert isinstance(waiver["reason"], str), waiver
        reason = " ".join(waiver["reason"].split())
        # a reason says why, in a sentence or more: not a placeholder
        assert len(reason.split()) >= 12 and reason.endswith("."), waiver
    # one reason per check and resource: no resource is covered twice for the same check
    named = [(w["check"], name) for w in document["waivers"] for name in w.get("resources", [])]
    assert len(named) == len(set(named))


def test_every_waiver_still_covers_a_failure(reports, unwaived):
    """Without the waivers checkov fails exactly what they cover, and each covers something:
    a waiver left behind by a fix fails here."""
    waivers = hardening.load_waivers()
    used = set()
    for variant, path in unwaived.items():
        resources = json.loads(path.read_text())["Resources"]
        for result in reports[variant, "unwaived"]["results"]["failed_checks"]:
            name = logical_id(result)
            covering = [i for i, w in enumerate(waivers) if w["check"] == result["check_id"]
                        and hardening.covers(w, name, resources[name])]
            assert covering, describe([result])
            used.update(covering)
    stale = [waivers[i] for i in range(len(waivers)) if i not in used]
    assert not stale, f"waivers that no longer cover a failed check: {stale}"
