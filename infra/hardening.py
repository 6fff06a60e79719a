"""What the IaC scanner (checkov, tests/integration/test_checkov.py) asks of the template and the
system should have, and the checks it waives on purpose:

- the API stage traced with X-Ray (a request followed from the gateway into its function);
- each scheduled function one execution at a time (reserved concurrency 1: a run that outlasts
  its period never overlaps the next, and a throttled invocation is retried by Lambda), and an
  API authorizer as many as the API function it stands in front of (ApiConcurrency);
- server access logs of every bucket (who read or wrote which material, certificate, evidence
  or report) in a bucket of their own, kept as long as the function logs;
- the waivers of infra/checkov-waivers.yaml, each written into the resources it names as
  `Metadata.checkov.skip` with its reason, so the packaged template carries them and checkov
  reports them as skipped, reason and all.

`apply` runs on the finished template of either variant, before infra/partition.py."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from infra.monitoring import LOG_RETENTION_DAYS

WAIVERS = Path(__file__).resolve().parent / "checkov-waivers.yaml"
ACCESS_LOGS = "AccessLogsBucket"
ACCESS_LOGS_NONCURRENT_DAYS = 30     # a log object overwritten or deleted: its old version


def apply(template: dict) -> None:
    resources = template["Resources"]
    resources["RestAPI"]["Properties"]["TracingEnabled"] = True
    _concurrency(resources)
    _access_logs(resources)
    waive(resources, load_waivers())


def _concurrency(resources: dict) -> None:
    api = resources["RestAPI"]["Properties"]
    authorizers = json.dumps(api["DefinitionBody"].get("securityDefinitions", {}))
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        if "ReservedConcurrentExecutions" in props:     # infra/limits.py's
            continue
        events = props.get("Events", {}).values()
        if events and all(event["Type"] == "Schedule" for event in events):
            props["ReservedConcurrentExecutions"] = 1
        elif f"${{{name}.Arn}}" in authorizers:
            # one invocation at most per request the stage admits, shorter than the API's own
            props["ReservedConcurrentExecutions"] = {"Ref": "ApiConcurrency"}


def _access_logs(resources: dict) -> None:
    buckets = sorted(name for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket")
    # Server access logs are delivered by S3's log delivery group, granted by a canned ACL: a
    # bucket policy would name the logging.s3.amazonaws.com principal, which infra/partition.py
    # does not admit (hence cfn-lint's W3045, preferring a bucket policy, is ignored here). The
    # logs' bucket is encrypted with S3's keys (log delivery writes no SSE-KMS).
    resources[ACCESS_LOGS] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3045"]}}},
        "Properties": {
            "AccessControl": "LogDeliveryWrite",
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [{
                "Id": "KeptAsLongAsTheFunctionLogs", "Status": "Enabled",
                "ExpirationInDays": LOG_RETENTION_DAYS,
                "NoncurrentVersionExpiration": {
                    "NoncurrentDays": ACCESS_LOGS_NONCURRENT_DAYS}}]}}}
    for name in buckets:
        resources[name]["Properties"]["LoggingConfiguration"] = {
            "DestinationBucketName": {"Ref": ACCESS_LOGS}, "LogFilePrefix": f"{name}/"}


def load_waivers(path: Path = WAIVERS) -> list[dict]:
    """The waivers: each a check id, the resources it covers (`resources`: logical ids,
    `types`: every resource of these types) and its reason."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["waivers"]


def covers(waiver: dict, name: str, resource: dict) -> bool:
    return name in waiver.get("resources", ()) or resource["Type"] in waiver.get("types", ())


def waive(resources: dict, waivers: list[dict]) -> None:
    for name, resource in resources.items():
        skips = [{"id": w["check"], "comment": " ".join(w["reason"].split())}
                 for w in waivers if covers(w, name, resource)]
        if skips:
            checkov = resource.setdefault("Metadata", {}).setdefault("checkov", {})
            checkov["skip"] = checkov.get("skip", []) + skips
