"""Tampering with the audit trail by someone holding the operator's key, on the running stack:
the auditor endpoint and `make verify-trail` (python -m local.trail) report a deleted newest
record against the head the case stores, and a chain rewritten consistently (every hash and the
case's head recomputed) against its anchor in the Object Lock bucket, written by the anchoring
job with its own role. A clip's link opens the version the trail recorded, whatever is put on
its key later."""
import hashlib
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import requests

from chalicelib.domain import anchors, trail
from local.cameras import declare_recorded
from .client import Citizen, announce, material_bytes
from .flows import as_staff

ROOT = Path(__file__).resolve().parents[2]
CITY = "BZ-JJJC-001"        # 监察员 of the city's supervision office


def operator(stack, service):
    aws = stack["aws"]
    return boto3.client(service, endpoint_url=aws["endpoint"], region_name=aws["region"],
                        aws_access_key_id=aws["access_key_id"],
                        aws_secret_access_key=aws["secret_access_key"])


def draft_case(stack, id_number):
    """A draft with three trail records that nothing else changes meanwhile: created and two
    materials announced (none uploaded)."""
    citizen = Citizen(stack, id_number, name="吴刚")
    guide = requests.get(f"{stack['api_url']}/guide/items/SCJG-001", timeout=10).json()
    created = citizen.post("/cases", {"item": "SCJG-001", "hall": guide["halls"][0],
                                      "form": guide["form"]["examples"][0]})
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    for spec in [m for m in guide["materials"] if m["required"]][:2]:
        ticket = citizen.post(f"/cases/{case_id}/uploads",
                              announce(material_bytes(spec["id"]), spec["id"],
                                       spec["content_types"][0]))
        assert ticket.status_code == 201, ticket.text
    return case_id


def verify_trail(stack, case_id):
    return subprocess.run([sys.executable, "-m", "local.trail", case_id, "--state-dir",
                           stack["state_dir"]], cwd=ROOT, capture_output=True, text=True)


def audited(stack, case_id):
    answer = as_staff(stack, CITY).get(f"/audit/cases/{case_id}/trail")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_deleted_newest_trail_record_is_reported_by_the_auditor_and_verify_trail(stack):
    case_id = draft_case(stack, "341602199203034565")
    before = audited(stack, case_id)
    assert before["verdict"]["intact"] and len(before["records"]) == 3
    intact = verify_trail(stack, case_id)
    assert intact.returncode == 0 and "intact, 3 records" in intact.stdout, intact.stdout

    # Someone with the operator's key deletes the newest record: every link still holds.
    operator(stack, "dynamodb").delete_item(
        TableName=stack["resources"]["TrailTable"],
        Key={"case_id": {"S": case_id}, "seq": {"N": "3"}})

    after = audited(stack, case_id)
    verdict = after["verdict"]
    assert (verdict["intact"], verdict["kind"], verdict["stored_seq"], verdict["records"]) == \
        (False, "tail_deleted", 3, 2)
    assert verdict["summary"] == "tail deleted (stored head seq 3, chain ends at 2)"
    assert len(after["records"]) == 2
    broken = verify_trail(stack, case_id)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "tail deleted (stored head seq 3, chain ends at 2)" in broken.stdout


def test_a_consistent_rewrite_is_reported_against_the_hourly_anchor(stack):
    now = datetime.now(timezone.utc)
    if now.minute == 59 and now.second > 45:          # all three records in one hour
        time.sleep(20)
    case_id = draft_case(stack, "341602199304045677")
    period = anchors.period_of(datetime.now(timezone.utc))
    # The job, allowed what its role allows and no more, at a quarter past the next hour.
    at = anchors.start_of(period) + anchors.PERIOD + anchors.GRACE + timedelta(seconds=1)
    ran = subprocess.run([sys.executable, "-m", "local.anchor", "--state-dir",
                          stack["state_dir"], "--at", at.isoformat()], cwd=ROOT,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    iam = [json.loads(line) for line in
           (Path(stack["state_dir"]) / "logs" / "iam.jsonl").read_text().splitlines()]
    job = [line for line in iam if line["principal"] == "user/AnchorTrails-run"]
    assert job and all(line["allowed"] for line in job)
    assert {line["action"] for line in job} <= {"dynamodb:Query", "s3:ListBucketVersions",
                                                "s3:GetObjectVersion", "s3:PutObject"}
    bucket = stack["resources"]["EvidenceBucket"]
    s3 = operator(stack, "s3")
    assert s3.head_object(Bucket=bucket, Key=anchors.manifest_key(period))[
        "ObjectLockMode"] == "COMPLIANCE"

    verdict = audited(stack, case_id)["verdict"]
    assert verdict["intact"] and verdict["anchor"] == period, verdict
    assert f"agrees with the anchor of {period}:00Z" in verify_trail(stack, case_id).stdout

    # Rewritten from record 2 on with the operator's key: every hash recomputed and the case's
    # stored head with them, so links and head agree.
    dynamodb = operator(stack, "dynamodb")
    table = stack["resources"]["TrailTable"]
    items = dynamodb.query(TableName=table, KeyConditionExpression="case_id = :c",
                           ExpressionAttributeValues={":c": {"S": case_id}})["Items"]
    records = [trail.TrailRecord(**json.loads(i["record"]["S"]))
               for i in sorted(items, key=lambda i: int(i["seq"]["N"]))]
    last_seq, last_hash = 1, records[0].hash
    for item, record in zip(sorted(items, key=lambda i: int(i["seq"]["N"]))[1:], records[1:]):
        forged = trail.append(case_id, last_seq, last_hash, record.action,
                              "department:SOMEONE-ELSE", record.at, record.data)
        item["record"] = {"S": json.dumps(forged.to_dict())}
        item["record_hash"] = {"S": forged.hash}
        dynamodb.put_item(TableName=table, Item=item)
        last_seq, last_hash = forged.seq, forged.hash
    cases = stack["resources"]["CasesTable"]
    case = dynamodb.get_item(TableName=cases, Key={"case_id": {"S": case_id}})["Item"]
    data = json.loads(case["data"]["S"])
    data["trail_hash"] = last_hash
    case["data"] = {"S": json.dumps(data, ensure_ascii=False)}
    dynamodb.put_item(TableName=cases, Item=case)

    verdict = audited(stack, case_id)["verdict"]
    assert (verdict["intact"], verdict["kind"], verdict["anchor"], verdict["broken_seq"]) == \
        (False, "anchor_differs", period, 3), verdict
    assert verdict["summary"] == f"differs from anchor at {period}:00Z (seq 3)"
    broken = verify_trail(stack, case_id)
    assert broken.returncode == 1 and f"differs from anchor at {period}:00Z" in broken.stdout
    # The hour's anchor checked the other way round: each head it holds against the table.
    walked = subprocess.run([sys.executable, "-m", "local.trail", "--anchor", period,
                             "--state-dir", stack["state_dir"]], cwd=ROOT, capture_output=True,
                            text=True)
    assert walked.returncode == 1, walked.stdout + walked.stderr
    assert f"chain {case_id} record 3: the record's hash differs" in walked.stdout


def test_a_clips_link_opens_the_version_recorded_in_the_trail(stack):
    now = datetime.now(timezone.utc)
    declare_recorded(stack["aws"]["endpoint"], "bz-a02", now - timedelta(hours=1),
                     now + timedelta(hours=1))
    citizen = Citizen(stack, "341602199505056786", name="郑阳")
    filed = citizen.post("/complaints", {"window": "BZ-A02", "text": "窗口无人值守",
                                         "visited_at": (now - timedelta(minutes=5)).isoformat()},
                         headers={"Idempotency-Key": f"complaint-{time.time_ns()}"})
    assert filed.status_code == 201, filed.text
    task = filed.json()
    [clip] = task["subject"]["evidence"]
    assert clip["version_id"]
    city = as_staff(stack, CITY)
    seen = city.get(f"/supervision/tasks/{task['task_id']}/evidence/0").json()
    assert f"versionId={clip['version_id']}" in seen["url"]
    trace = city.get(f"/audit/tasks/{task['task_id']}").json()
    stored = next(r for r in trace["trail"] if r["action"] == "evidence_stored")
    assert stored["data"]["version_id"] == clip["version_id"]
    first = requests.get(seen["url"], timeout=10)
    assert first.status_code == 200 and hashlib.sha256(first.content).hexdigest() == \
        clip["sha256"]

    # Were anything put on the key later (Object Lock keeps the clip's version, but a new one
    # may be added), the link still opens the recorded version.
    other = b"not the clip"
    s3 = operator(stack, "s3")
    s3.put_object(Bucket=stack["resources"]["EvidenceBucket"], Key=clip["key"], Body=other,
                  ChecksumAlgorithm="SHA256")
    again = requests.get(seen["url"], timeout=10)
    assert again.status_code == 200 and again.content == first.content
    latest = s3.get_object(Bucket=stack["resources"]["EvidenceBucket"], Key=clip["key"])
    assert latest["Body"].read() == other
