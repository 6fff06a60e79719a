"""`make package`: the one CloudFormation template of the cloud deployment.

`chalice package --merge-template infra/resources.json` generates the API, the functions and
their event sources and merges in our tables, buckets, queues, topic, user pool, IAM groups and
the case workflow. What a merge cannot express is then set here: every function (not only the
API's) gets the environment declared on APIHandler and its own role (infra/roles.py), the
citizens' Cognito authorizer points at the template's own user pool, and each state machine's
ASL file (statemachines/) is carried inline with its definition substitutions.

Two variants come from the same sources: `global` (build/cloud: Cognito, SNS text messages) and
`china` (build/cloud-cn, infra/china.py: AWS's China regions, which offer neither). Both are
partition-aware (infra/partition.py), and given deploy parameter values are checked against
each parameter's pattern (infra/parameters.py).

    python -m infra.build [OUTDIR] [--variant global|china] [--parameters FILE]"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra import (china, deploy, hardening, limits, mail, monitoring, parameters, partition,
                   realname, roles)
from infra.monitoring import ACCESS_LOG_FORMAT  # noqa: F401 - the auditors' tests read it here
from infra.slim import slim

ROOT = Path(__file__).resolve().parent.parent


VARIANTS = {"global": "cloud", "china": "cloud-cn"}   # variant → its folder under build/


def build(out: Path, variant: str = "global", values: Path | None = None) -> Path:
    if variant not in VARIANTS:
        raise SystemExit(f"variant is one of {', '.join(VARIANTS)}, not {variant!r}")
    given = parameters.load(values) if values else None   # a bad file fails before packaging
    out.mkdir(parents=True, exist_ok=True)
    (out / "parameters.json").unlink(missing_ok=True)   # never one left from another build
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION",
                                                                  "us-east-1"),
               # which authorizer app.py gives the citizen routes (infra/china.py)
               "CITIZEN_SIGN_IN": "oidc" if variant == "china" else "cognito"}
        # One packaging at a time per checkout: chalice writes the dependencies' zip into its
        # cache (.chalice/deployments) and two builds filling the same cache at once (both
        # variants, built side by side by the tests) read each other's half-written zip.
        import fcntl

        cache = ROOT / ".chalice" / "deployments"
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / "package.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            subprocess.run([str(Path(sys.executable).parent / "chalice"), "package",
                            "--merge-template", str(ROOT / "infra" / "resources.json"), work],
                           cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        template = json.loads((Path(work) / "sam.json").read_text())
        shutil.copy(Path(work) / "deployment.zip", out / "deployment.zip")
    slim(out / "deployment.zip")   # no second copy of the runtime's SDK; bytecode included
    resources = template["Resources"]
    shared = resources["APIHandler"]["Properties"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function" and name != "APIHandler":
            resource["Properties"]["Environment"] = copy.deepcopy(shared["Environment"])
    # every function its own role (infra/roles.py; China's authorizer: infra/china.py)
    (china.apply_roles if variant == "china" else roles.apply)(resources)
    report_batch_item_failures(resources)
    for resource in resources.values():
        # State machines are kept as ASL files; the template carries them inline.
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and \
                isinstance(props.get("DefinitionS3Location"), str):
            path = ROOT / props.pop("DefinitionS3Location")
            props["DefinitionString"] = path.read_text(encoding="utf-8")
    monitoring.apply(resources, sorted(name for name, r in resources.items()
                                       if r["Type"] == "AWS::Serverless::Function"))
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    if variant == "global":
        body["securityDefinitions"]["Citizens"]["x-amazon-apigateway-authorizer"][
            "providerARNs"] = [{"Fn::GetAtt": ["CitizenUserPool", "Arn"]}]
    deploy.apply(template, _camera_streams())   # a fresh account, two stages, records kept
    limits.apply(template)   # throttling and reserved concurrency (infra/limits.py)
    if variant == "china":
        china.apply(template)   # no user pool, no SNS texts, a regional API (infra/china.py)
    else:
        realname.apply(template)   # the real-name step's verification service
        mail.apply(template)       # the halls' reports e-mailed through SES
    hardening.apply(template)   # what the IaC scanner asks, and its waivers (infra/hardening.py)
    partition.apply(template)   # no `arn:aws:` nor amazonaws.com address (infra/partition.py)
    loose = parameters.unconstrained(template)
    if loose:
        raise parameters.InvalidParameters(loose)
    if given is not None:
        checked = parameters.check(template, given)
        (out / "parameters.json").write_text(json.dumps(checked, indent=2, ensure_ascii=False),
                                             encoding="utf-8")
    path = out / "template.json"
    path.write_text(json.dumps(template, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def report_batch_item_failures(resources: dict) -> None:
    """Every queue handler answers which messages of its batch failed (app.py, `_one_by_one`):
    its event source mapping reads that answer (ReportBatchItemFailures), so only those are
    received again and, after the queue's maxReceiveCount, go to its dead-letter queue, while
    their neighbours are deleted. Chalice's `on_sqs_message` cannot say it."""
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]


def _camera_streams() -> list[str]:
    from chalicelib import catalog

    return sorted({window["camera_stream"] for department in catalog.published()
                   .departments.values() for window in department["windows"]})


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="python -m infra.build", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("out", nargs="?", type=Path,
                     help="output folder (build/cloud, or build/cloud-cn for china)")
    cli.add_argument("--variant", choices=sorted(VARIANTS), default="global")
    cli.add_argument("--parameters", type=Path, metavar="FILE",
                     help="deploy parameter values (JSON) to check and write as "
                          "parameters.json next to the template")
    args = cli.parse_args()
    print(build(args.out or ROOT / "build" / VARIANTS[args.variant], args.variant,
                args.parameters))
