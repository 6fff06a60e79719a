"""Tamper evidence against DynamoDB and S3 as moto answers them, with the tables and the evidence
bucket of infra/resources.json: trail and supervision records are only ever added by conditional
puts; the index of changed chains feeds the hourly anchors in the Object Lock bucket; a chain
rewritten consistently, head and all, differs from its anchor; a clip's link opens the version
the trail recorded."""
import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text())
T0 = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    from chalicelib.adapters import aws as clients

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    clients.reset()
    with mock_aws():
        import boto3

        from chalicelib.adapters.dynamodb import MODELS

        dynamodb = boto3.client("dynamodb")
        for model in MODELS:         # named after their logical ids without the stack's names
            props = TEMPLATE["Resources"][model.Meta.table_name]["Properties"]
            dynamodb.create_table(TableName=model.Meta.table_name, **{
                k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode",
                                      "GlobalSecondaryIndexes") if k in props})
        s3 = boto3.client("s3")
        bucket = TEMPLATE["Resources"]["EvidenceBucket"]["Properties"]
        s3.create_bucket(Bucket="evidence-bucket", ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket="evidence-bucket",
                                         ObjectLockConfiguration=bucket["ObjectLockConfiguration"])
        s3.put_bucket_versioning(Bucket="evidence-bucket",
                                 VersioningConfiguration=bucket["VersioningConfiguration"])
        monkeypatch.setenv("EVIDENCE_BUCKET", "evidence-bucket")
        yield {"dynamodb": dynamodb, "s3": s3}
    clients.reset()


@pytest.fixture
def calls(monkeypatch):
    """Every DynamoDB call pynamodb makes: (operation, parameters)."""
    from pynamodb.connection.base import Connection

    made = []
    original = Connection._make_api_call

    def spy(self, operation, kwargs):
        made.append((operation, kwargs))
        return original(self, operation, kwargs)
    monkeypatch.setattr(Connection, "_make_api_call", spy)
    return made


def new_case(case_id="case-1"):
    from chalicelib.domain.cases import Case

    return Case(case_id, "SCJG-001", "BZ", "online", {"id_number": "341602199001011234"}, {},
                T0.isoformat(), "citizen:u1")


def change(case, action, at=T0):
    from chalicelib.domain import trail

    record = trail.append(case.case_id, case.trail_seq, case.trail_hash, action, "citizen:u1",
                          at.isoformat(), {})
    case.trail_seq, case.trail_hash = record.seq, record.hash
    return record


def writes_to(calls, table):
    """Each write a call makes to the table: (kind, condition expression)."""
    found = []
    for operation, kwargs in calls:
        if operation == "TransactWriteItems":
            for item in kwargs["TransactItems"]:
                for kind, write in item.items():
                    if write["TableName"] == table:
                        found.append((kind, write.get("ConditionExpression", "")))
        elif kwargs.get("TableName") == table and operation not in ("Query", "GetItem", "Scan"):
            found.append((operation, kwargs.get("ConditionExpression", "")))
    return found


def test_trail_and_supervision_records_are_only_added_by_conditional_puts(aws, calls):
    from chalicelib.adapters.dynamodb import (DynamoCases, DynamoSupervision, DynamoTasks,
                                              SupervisionModel, TrailModel)
    from chalicelib.domain.errors import ConcurrentChange
    from chalicelib.domain.supervised import SupervisedTask
    from chalicelib.domain import trail

    cases, tasks, events = DynamoCases(), DynamoTasks(), DynamoSupervision()
    case = new_case()
    cases.create(case, change(case, "created"))
    cases.update(case, change(case, "submitted"))
    task = SupervisedTask("TS1", "order", "SCJG", "BZ", {}, T0.isoformat(), "auditor:BZ-JJJC",
                          3, T0.isoformat())
    tasks.save(task, trail.append("TS1", 0, trail.GENESIS, "opened", "auditor:BZ-JJJC",
                                  T0.isoformat()))
    event = {"case_id": case.case_id, "event_id": "e1", "department": "SCJG",
             "at": T0.isoformat(), "hall": "BZ", "kind": "yellow"}
    assert events.record(event) is True
    assert events.record({**event, "kind": "edited"}) is False        # redelivered: kept as is

    trail_writes = writes_to(calls, TrailModel.Meta.table_name)
    supervision_writes = writes_to(calls, SupervisionModel.Meta.table_name)
    assert len(trail_writes) == 3 and len(supervision_writes) == 2
    for kind, condition in trail_writes + supervision_writes:
        assert kind in ("Put", "PutItem") and condition.startswith("attribute_not_exists"), \
            (kind, condition)
    assert events.of_case(case.case_id)[0]["kind"] == "yellow"

    # A second write of a record that exists is refused by the condition, not applied.
    stale = new_case()
    stale.trail_seq, stale.trail_hash = 1, case.trail_hash
    with pytest.raises(ConcurrentChange):
        cases._write(case.case_id, [(TrailModel.of(change(stale, "forged")),
                                     TrailModel.seq.does_not_exist())])
    assert [r.action for r in cases.trail(case.case_id)] == ["created", "submitted"]


def test_the_changed_chains_index_feeds_the_anchors_and_a_rewrite_differs_from_them(aws):
    from chalicelib.adapters.anchors import S3Anchors
    from chalicelib.adapters.dynamodb import DynamoCases, DynamoTrails, TrailModel
    from chalicelib.domain import anchors, trail
    from chalicelib.service.trails import Anchoring, TrailAudit

    cases = DynamoCases()
    a, b = new_case("case-a"), new_case("case-b")
    cases.create(a, change(a, "created"))
    cases.create(b, change(b, "created"))
    for action in ("submitted", "accepted", "decided"):
        cases.update(a, change(a, action))
    period = anchors.period_of(datetime.now(timezone.utc))
    written = sorted(DynamoTrails().written_in(period))
    assert [(chain, seq) for chain, seq, _ in written] == \
        [("case-a", 1), ("case-a", 2), ("case-a", 3), ("case-a", 4), ("case-b", 1)]
    assert written[3][2] == a.trail_hash

    store = S3Anchors("evidence-bucket")
    # The job's first run, a while after the hour is complete, anchors just that hour.
    later = anchors.start_of(period) + timedelta(hours=1) + anchors.GRACE + timedelta(minutes=5)
    assert period in Anchoring(DynamoTrails(), store, lambda: later).run()
    manifest = json.loads(store.first_version(anchors.manifest_key(period)))
    assert manifest["heads"] == 2
    # Each anchor is locked in compliance mode: not even the bucket's owner deletes it.
    versions = aws["s3"].list_object_versions(Bucket="evidence-bucket",
                                              Prefix=anchors.manifest_key(period))["Versions"]
    head = aws["s3"].head_object(Bucket="evidence-bucket", Key=anchors.manifest_key(period))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(aws["s3"].exceptions.ClientError):
        aws["s3"].delete_object(Bucket="evidence-bucket", Key=anchors.manifest_key(period),
                                VersionId=versions[0]["VersionId"])

    def head_of(chain_id):
        case = cases.get(chain_id)
        return case.trail_seq, case.trail_hash
    audit = TrailAudit(head_of, DynamoTrails(), store)
    verdict, _ = audit.verify("case-a")
    assert verdict.intact and verdict.anchor == period

    # Rewritten from record 2 on, every hash recomputed, the case's head too: only the anchor
    # outside the table still tells.
    records = cases.trail("case-a")
    last_seq, last_hash = 1, records[0].hash
    for record in records[1:]:
        forged = trail.append("case-a", last_seq, last_hash, record.action, "department:OTHER",
                              record.at, record.data)
        TrailModel.of(forged).save()
        last_seq, last_hash = forged.seq, forged.hash
    a.trail_hash = last_hash
    from chalicelib.adapters.dynamodb import CaseModel
    CaseModel.of(a).save()
    verdict, _ = audit.verify("case-a")
    assert (verdict.kind, verdict.anchor, verdict.broken_seq) == \
        (trail.ANCHOR_DIFFERS, period, 4)


def test_a_clips_link_opens_the_version_the_trail_recorded(aws):
    from chalicelib.adapters.evidence import S3Evidence

    evidence = S3Evidence("evidence-bucket")
    clip = b"\x00\x00\x00\x18ftypmp42 the window at 10:05"
    version = evidence.put_once("evidence/TS1/bz-a02-20261121T100000.mp4", clip, "video/mp4",
                                hashlib.sha256(clip).hexdigest())
    assert version
    url = evidence.link("evidence/TS1/bz-a02-20261121T100000.mp4", 300, version)
    assert f"versionId={version}" in url
    # Whoever put another object on the key would add a version; the link's stays.
    other = b"something else"
    aws["s3"].put_object(Bucket="evidence-bucket", Key="evidence/TS1/bz-a02-20261121T100000.mp4",
                         Body=other, ChecksumAlgorithm="SHA256",
                         ChecksumSHA256=base64.b64encode(hashlib.sha256(other).digest()).decode())
    import requests

    assert requests.get(url, timeout=10).content == clip
    unversioned = evidence.link("evidence/TS1/bz-a02-20261121T100000.mp4", 300)
    assert requests.get(unversioned, timeout=10).content == other


def statements(function):
    from infra import roles

    return roles.role(function)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def test_no_role_both_writes_a_trail_and_writes_an_anchor():
    """Rewriting a chain consistently takes a trail-writing role; agreeing anchors would take
    the anchoring job's: no function holds both, and the job writes nothing else."""
    from infra import roles

    def can(function, action, resource_part):
        return any(action in s["Action"] and resource_part in json.dumps(s["Resource"])
                   for s in statements(function))

    for function in roles.POLICIES:
        writes_trail = can(function, "dynamodb:PutItem", "TrailTable")
        # Any PutObject on the evidence bucket not confined to evidence/ reaches anchors/.
        writes_anchors = any("s3:PutObject" in s["Action"]
                             and "EvidenceBucket" in json.dumps(s["Resource"])
                             and "/evidence/*" not in json.dumps(s["Resource"])
                             for s in statements(function))
        assert not (writes_trail and writes_anchors), function
    job = statements(roles.ANCHOR_TRAILS)
    actions = {a for s in job for a in s["Action"]}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:Query",
                       "s3:ListBucketVersions", "s3:GetObjectVersion", "s3:PutObject"}
    writes = [s for s in job if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [{"Fn::Sub": "${EvidenceBucket.Arn}/anchors/*"}]
    reads = [s for s in job if "dynamodb:Query" in s["Action"]]
    assert [s["Resource"] for s in reads] == [
        {"Fn::Sub": "${TrailTable.Arn}/index/ByAnchorPeriod"}]
    api_evidence = [s for s in statements(roles.API) if "s3:PutObject" in s["Action"]
                    and "EvidenceBucket" in json.dumps(s["Resource"])]
    assert [s["Resource"] for s in api_evidence] == [
        {"Fn::Sub": "${EvidenceBucket.Arn}/evidence/*"}]
