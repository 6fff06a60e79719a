"""`make package`: the one CloudFormation template of the cloud deployment.

`chalice package --merge-template infra/resources.json` generates the API, the functions and
their event sources and merges in our tables, buckets, queues, topic, user pool, IAM groups and
the case workflow. What a merge cannot express is then set here: every function (not only the
API's) gets the environment and the least-privilege policy declared on APIHandler, the
citizens' Cognito authorizer points at the template's own user pool, and each state machine's
ASL file (statemachines/) is carried inline with its definition substitutions."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra import limits, monitoring
from infra.monitoring import ACCESS_LOG_FORMAT  # noqa: F401 - the auditors' tests read it here
from infra.slim import slim

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION",
                                                                  "us-east-1")}
        subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--merge-template",
                        str(ROOT / "infra" / "resources.json"), work], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        template = json.loads((Path(work) / "sam.json").read_text())
        shutil.copy(Path(work) / "deployment.zip", out / "deployment.zip")
    slim(out / "deployment.zip")   # no second copy of the runtime's SDK; bytecode included
    resources = template["Resources"]
    shared = resources["APIHandler"]["Properties"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function" and name != "APIHandler":
            resource["Properties"]["Environment"] = copy.deepcopy(shared["Environment"])
            resource["Properties"]["Policies"] = copy.deepcopy(shared["Policies"])
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
    body["securityDefinitions"]["Citizens"]["x-amazon-apigateway-authorizer"]["providerARNs"] = \
        [{"Fn::GetAtt": ["CitizenUserPool", "Arn"]}]
    limits.apply(template)   # throttling and reserved concurrency (infra/limits.py)
    path = out / "template.json"
    path.write_text(json.dumps(template, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "cloud")))
