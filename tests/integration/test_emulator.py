"""The local emulator keeps DynamoDB's transaction guarantee under parallel requests: the
case store's optimistic changes (case at the trail head it read + the next trail record) either
land whole or not at all, and a write reported as done stays done."""
import socket
import sys
import threading

import boto3
import pytest
from botocore.config import Config

from local.emulator import serialise_dynamodb

WRITERS, CHANGES = 6, 20


@pytest.fixture(scope="module")
def dynamodb():
    from moto.server import ThreadedMotoServer

    serialise_dynamodb()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}",
                          region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing",
                          config=Config(max_pool_connections=WRITERS * 2))
    for name, keys in (("cases", ["case_id"]), ("trail", ["case_id", "seq"])):
        client.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))],
            AttributeDefinitions=[{"AttributeName": "case_id", "AttributeType": "S"}]
            + [{"AttributeName": "seq", "AttributeType": "N"}] * (len(keys) - 1))
    # A table with some weight, as after a day of cases: moto copies it on every transaction.
    for n in range(200):
        client.put_item(TableName="trail", Item={"case_id": {"S": f"old{n}"}, "seq": {"N": "1"},
                                                 "record": {"S": "x" * 2000}})
    # Threads switch far more often than by default, so that without the guarantee a
    # transaction's copy-and-restore interleaves with other writes within a few dozen changes.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield client
    sys.setswitchinterval(interval)
    server.stop()


def change(client, writer: int) -> int:
    """One writer appends CHANGES records to the shared case, rereading after each lost race,
    as the service does. Returns how many of its changes were acknowledged."""
    done = 0
    while done < CHANGES:
        item = client.get_item(TableName="cases", Key={"case_id": {"S": "c1"}},
                               ConsistentRead=True).get("Item")
        seq = int(item["seq"]["N"]) if item else 0
        condition = ({"ConditionExpression": "seq = :seen",
                      "ExpressionAttributeValues": {":seen": {"N": str(seq)}}} if item else
                     {"ConditionExpression": "attribute_not_exists(case_id)"})
        try:
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": "cases", **condition,
                         "Item": {"case_id": {"S": "c1"}, "seq": {"N": str(seq + 1)}}}},
                {"Put": {"TableName": "trail", "ConditionExpression": "attribute_not_exists(seq)",
                         "Item": {"case_id": {"S": "c1"}, "seq": {"N": str(seq + 1)},
                                  "writer": {"N": str(writer)}}}}])
        except client.exceptions.TransactionCanceledException:
            continue
        done += 1
    return done


def test_parallel_transactions_neither_lose_nor_half_write(dynamodb):
    acknowledged = []
    threads = [threading.Thread(target=lambda w=w: acknowledged.append(change(dynamodb, w)))
               for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    case = dynamodb.get_item(TableName="cases", Key={"case_id": {"S": "c1"}},
                             ConsistentRead=True)["Item"]
    records = dynamodb.query(TableName="trail", KeyConditionExpression="case_id = :c",
                             ExpressionAttributeValues={":c": {"S": "c1"}},
                             ConsistentRead=True)["Items"]
    assert sum(acknowledged) == WRITERS * CHANGES
    assert int(case["seq"]["N"]) == WRITERS * CHANGES      # no acknowledged change undone
    assert sorted(int(r["seq"]["N"]) for r in records) == list(range(1, WRITERS * CHANGES + 1))


def test_a_failed_condition_cancels_every_write_and_names_the_failing_one(dynamodb):
    dynamodb.put_item(TableName="cases", Item={"case_id": {"S": "c2"}, "seq": {"N": "3"}})
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "trail", "Item": {"case_id": {"S": "c2"}, "seq": {"N": "4"}}}},
            {"Update": {"TableName": "cases", "Key": {"case_id": {"S": "c2"}},
                        "UpdateExpression": "SET seq = :next",
                        "ConditionExpression": "seq = :seen",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        "ExpressionAttributeValues": {":seen": {"N": "2"}, ":next": {"N": "4"}}}}])
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["seq"] == {"N": "3"}
    assert "Item" not in dynamodb.get_item(TableName="trail",
                                          Key={"case_id": {"S": "c2"}, "seq": {"N": "4"}})


def test_updates_deletes_and_condition_checks_apply_together(dynamodb):
    dynamodb.put_item(TableName="cases", Item={"case_id": {"S": "c3"}, "seq": {"N": "1"}})
    dynamodb.put_item(TableName="cases", Item={"case_id": {"S": "c4"}, "seq": {"N": "1"}})
    dynamodb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": "cases", "Key": {"case_id": {"S": "c4"}},
                            "ConditionExpression": "attribute_exists(case_id)"}},
        {"Update": {"TableName": "cases", "Key": {"case_id": {"S": "c3"}},
                    "UpdateExpression": "ADD seq :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": "trail", "Key": {"case_id": {"S": "old1"}, "seq": {"N": "1"}}}}])
    assert dynamodb.get_item(TableName="cases", Key={"case_id": {"S": "c3"}})["Item"]["seq"] \
        == {"N": "2"}
    assert "Item" not in dynamodb.get_item(TableName="trail",
                                          Key={"case_id": {"S": "old1"}, "seq": {"N": "1"}})


def test_a_write_that_fails_midway_leaves_nothing_behind(dynamodb):
    with pytest.raises(dynamodb.exceptions.ClientError):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "cases", "Item": {"case_id": {"S": "c5"}, "seq": {"N": "1"}}}},
            {"Update": {"TableName": "cases", "Key": {"case_id": {"S": "c6"}},
                        "UpdateExpression": "SET seq = seq + :one",   # c6 has no seq to add to
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert "Item" not in dynamodb.get_item(TableName="cases", Key={"case_id": {"S": "c5"}})
