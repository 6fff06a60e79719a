"""The sharded indexes and the queues against DynamoDB and SQS as moto answers them, with the
tables and queues of infra/resources.json: a period's counters are written to 16 index keys and
read back whole from them; the counted-once markers and the board's figures stay out of the
index; a day's completions are read from 8 shards, latest first; a queue takes many messages
ten a call."""
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
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    clients.reset()
    with mock_aws():
        import boto3

        dynamodb = boto3.client("dynamodb")
        for table in ("CasesTable", "TrailTable", "BranchesTable", "ScoresTable"):
            props = TEMPLATE["Resources"][table]["Properties"]
            dynamodb.create_table(TableName=table, **{
                k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode",
                                      "GlobalSecondaryIndexes") if k in props})
        yield {"dynamodb": dynamodb, "sqs": boto3.client("sqs")}
    clients.reset()


def index_keys(dynamodb, table, attribute):
    return {item[attribute]["S"] for item in dynamodb.scan(TableName=table)["Items"]
            if attribute in item}


def test_a_periods_counters_spread_over_16_index_keys_and_are_read_back_whole(aws):
    from chalicelib.adapters.dynamodb import DynamoCounters
    from chalicelib.domain import shards

    counters = DynamoCounters("ScoresTable")
    staff = [f"BZ-A{i:02d}-{j:02d}" for i in range(8) for j in range(8)]
    for subject in staff:
        counters.add({("staff", subject, "2026-11-21"): {"ratings": 1},
                      ("staff", subject, "2026-11"): {"ratings": 2}})
    counters.add({("staff", staff[0], "2026-11-21"): {"ratings": 1, "complaints": 1}})
    keys = index_keys(aws["dynamodb"], "ScoresTable", "period_shard")
    assert keys == set(shards.keys("2026-11-21", 16)) | set(shards.keys("2026-11", 16))
    day = counters.of_period("2026-11-21")
    assert sorted(r["subject"] for r in day) == sorted(staff)
    assert {r["subject"]: r["metrics"] for r in day}[staff[0]] == {"ratings": 2, "complaints": 1}
    assert sum(r["metrics"]["ratings"] for r in counters.of_period("2026-11")) == 128
    assert counters.periods_of("staff", staff[0]) == ["2026-11", "2026-11-21"]


def test_a_counted_once_message_adds_once_and_its_marker_stays_out_of_the_index(aws):
    from chalicelib.adapters.dynamodb import DynamoCounters

    counters = DynamoCounters("ScoresTable")
    if "once" not in DynamoCounters.add.__code__.co_varnames:
        pytest.fail("DynamoCounters.add counts once by an event's marker")
    grouped = {("department", "SCJG", "2026-11-21"): {"ratings": 1}}
    counters.add(grouped, once="retry:m-1")
    counters.add(grouped, once="retry:m-1")
    [row] = counters.of_period("2026-11-21")
    assert row["metrics"] == {"ratings": 1}
    assert counters.of_period("once") == []
    markers = [i for i in aws["dynamodb"].scan(TableName="ScoresTable")["Items"]
               if i["subject"]["S"].startswith("counted#")]
    assert len(markers) == 1 and "period_shard" not in markers[0]


def test_the_boards_figures_are_one_item_outside_the_index(aws):
    from chalicelib.adapters.dynamodb import DynamoCounters

    counters = DynamoCounters("ScoresTable")
    assert counters.board() is None
    counters.put_board({"month": "2026-11", "satisfaction": [{"day": "2026-11-21",
                                                              "rate": 0.9}]})
    counters.put_board({"month": "2026-11", "satisfaction": [{"day": "2026-11-21",
                                                              "rate": 1.0}]})
    assert counters.board()["satisfaction"][0]["rate"] == 1.0
    assert index_keys(aws["dynamodb"], "ScoresTable", "period_shard") == set()


def test_a_days_completions_are_read_from_its_8_shards_latest_first(aws, monkeypatch):
    from chalicelib.adapters.dynamodb import DynamoCases
    from chalicelib.domain import shards, trail
    from chalicelib.domain.cases import Case

    cases = DynamoCases()
    for i in range(30):
        at = (T0 + timedelta(minutes=i)).isoformat()
        case = Case(f"case-{i:02d}", "SCJG-001", "BZ", "online",
                    {"id_number": "341602199001011234", "name": "张三"}, {}, T0.isoformat(),
                    "citizen:u1", status="completed", completed_at=at)
        record = trail.append(case.case_id, 0, trail.GENESIS, "created", "citizen:u1", at, {})
        case.trail_seq, case.trail_hash = record.seq, record.hash
        cases.create(case, record)
    keys = index_keys(aws["dynamodb"], "CasesTable", "completed_shard")
    assert keys == set(shards.keys("2026-11-21", shards.COMPLETION_SHARDS))
    latest = cases.completed_on("2026-11-21", 20)
    assert [c.case_id for c in latest] == [f"case-{i:02d}" for i in range(29, 9, -1)]
    assert cases.completed_on("2026-11-20", 20) == []


def test_a_queue_takes_many_messages_ten_a_call(aws):
    from chalicelib.adapters.queues import SqsQueue

    sqs = aws["sqs"]
    props = TEMPLATE["Resources"]["DefaultRatingsQueue"]["Properties"]
    url = sqs.create_queue(QueueName="approval-default-ratings", Attributes={
        "VisibilityTimeout": str(props["VisibilityTimeout"])})["QueueUrl"]
    sent = [{"hall": "BZ", "cases": [f"case-{i}-{j}" for j in range(50)]} for i in range(23)]
    assert SqsQueue(url).send(sent) == 3
    got = []
    while True:
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not found:
            break
        got += [json.loads(m["Body"]) for m in found]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(found)])
    assert sorted(got, key=json.dumps) == sorted(sent, key=json.dumps)


def test_each_co_applicant_finds_the_case_in_their_own_list_and_nothing_else_reads_as_one(aws):
    from chalicelib.adapters.dynamodb import DynamoCases
    from chalicelib.domain import trail
    from chalicelib.domain.cases import Case
    from chalicelib.domain.pages import Page

    cases = DynamoCases()
    seller, buyer, spouse = "341602199001011234", "341602199002083328", "341602199308086628"
    case = Case("case-sale", "ZRZY-003", "BZ", "online", {"id_number": seller, "name": "张三"},
                {}, T0.isoformat(), "citizen:u1",
                co_applicants=[{"name": "李淑芬", "id_number": buyer},
                               {"name": "欧阳晓雯", "id_number": spouse}])
    record = trail.append(case.case_id, 0, trail.GENESIS, "created", "citizen:u1",
                          T0.isoformat(), {})
    case.trail_seq, case.trail_hash = record.seq, record.hash
    cases.create(case, record)
    case.status = "submitted"                      # a later change reaches every party's list
    later = trail.append(case.case_id, 1, record.hash, "submitted", "citizen:u1",
                         T0.isoformat(), {})
    case.trail_seq, case.trail_hash = later.seq, later.hash
    cases.update(case, later)
    for who in (seller, buyer, spouse):
        found, _ = cases.by_applicant(who, Page(10))
        assert [(c.case_id, c.status) for c in found] == [("case-sale", "submitted")], who
    assert cases.by_applicant("341621198807072460", Page(10))[0] == []
    assert cases.get("party#case-sale#0") is None          # an entry is no case
    assert cases.get("case-sale").co_applicants[0]["id_number"] == buyer
