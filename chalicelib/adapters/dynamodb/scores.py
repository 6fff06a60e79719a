"""ScoresTable: performance counters, one item per (scope#subject, period), each metric a
number that events ADD to atomically; the ByPeriodShard index reads a whole period, one item
per subject, from its 16 shards (`period_shard` = period#NN, NN from the subject: a period's
writes spread over 16 index partitions, chalicelib/domain/shards.py).

Raw boto3 rather than a pynamodb model: the metrics are attributes named at run time
(`m_<metric>`), which one UpdateItem ADDs all at once and a query reads back whole; a pynamodb
model knows only the attributes it declares and drops the others when it reads an item."""
from __future__ import annotations

import json
import os

from .. import aws
from ...domain import shards


class DynamoCounters:
    def __init__(self, table: str | None = None):
        self.table = table or os.environ.get("SCORES_TABLE", "ScoresTable")

    def add(self, grouped, once=None):
        """One atomic ADD per counter item. With `once` (an event's id), every ADD and a marker
        of the event go in one transaction that fails if the marker exists: an event handed
        over again (after a fault, by the sweeper) is counted once."""
        client = aws.client("dynamodb")
        updates = [_add(self.table, key, metrics) for key, metrics in grouped.items()]
        if once is None:
            for update in updates:
                client.update_item(**update)
            return
        from botocore.exceptions import ClientError

        marker = {"TableName": self.table,
                  "Item": {"subject": {"S": f"counted#{once}"}, "period": {"S": "once"}},
                  "ConditionExpression": "attribute_not_exists(subject)"}
        try:
            client.transact_write_items(TransactItems=[{"Put": marker}]
                                        + [{"Update": u} for u in updates])
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if error.response["Error"]["Code"] == "TransactionCanceledException" and reasons \
                    and reasons[0].get("Code") == "ConditionalCheckFailed":
                return                       # counted before
            raise

    def of_period(self, period):
        client = aws.client("dynamodb")
        rows = []
        for key in shards.keys(period, shards.SCORE_SHARDS):
            start = None
            while True:
                page = client.query(TableName=self.table, IndexName="ByPeriodShard",
                                    KeyConditionExpression="#p = :p",
                                    ExpressionAttributeNames={"#p": "period_shard"},
                                    ExpressionAttributeValues={":p": {"S": key}},
                                    **({"ExclusiveStartKey": start} if start else {}))
                rows += [_row(item) for item in page["Items"]]
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
        return sorted(rows, key=lambda row: (row["scope"], row["subject"]))

    # The public board's precompiled figures: one item beside the counters, outside the index.
    BOARD = {"subject": {"S": "board#figures"}, "period": {"S": "compiled"}}

    def put_board(self, figures: dict) -> None:
        aws.client("dynamodb").put_item(TableName=self.table, Item={
            **self.BOARD, "document": {"S": json.dumps(figures, ensure_ascii=False)}})

    # A report's delivery to one subscriber: claimed by a conditional put before it is sent,
    # so a share handled again sends it once; released (marked failed) when sending fails, so
    # the next run sends it again.
    def claim(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={"subject": {"S": f"delivery#{key}"}, "period": {"S": "sent"},
                      "status": {"S": "claimed"}},
                ConditionExpression="attribute_not_exists(subject) OR #s = :failed",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":failed": {"S": "failed"}})
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, key: str) -> None:
        aws.client("dynamodb").put_item(
            TableName=self.table, Item={"subject": {"S": f"delivery#{key}"},
                                        "period": {"S": "sent"}, "status": {"S": "failed"}})

    def board(self) -> dict | None:
        """The figures compiled last, None before the first compilation (one query)."""
        page = aws.client("dynamodb").query(
            TableName=self.table, KeyConditionExpression="subject = :s AND #p = :p",
            ExpressionAttributeNames={"#p": "period"},
            ExpressionAttributeValues={":s": self.BOARD["subject"], ":p": self.BOARD["period"]})
        return json.loads(page["Items"][0]["document"]["S"]) if page["Items"] else None

    def periods_of(self, scope, subject):
        page = aws.client("dynamodb").query(
            TableName=self.table, KeyConditionExpression="subject = :s",
            ExpressionAttributeValues={":s": {"S": f"{scope}#{subject}"}},
            ProjectionExpression="#p", ExpressionAttributeNames={"#p": "period"})
        return [item["period"]["S"] for item in page["Items"]]

    def of_subject(self, scope, subject, page, keep=None):
        """One page of one subject's counter items, the latest period first: a query of the
        subject's own partition (Limit, ExclusiveStartKey), never another subject's items.
        `keep(period)` chooses the periods wanted (the months of an archive)."""
        from . import paging

        client = aws.client("dynamodb")

        def fetch(start, n):
            found = client.query(TableName=self.table, KeyConditionExpression="subject = :s",
                                 ExpressionAttributeValues={":s": {"S": f"{scope}#{subject}"}},
                                 ScanIndexForward=False, Limit=n,
                                 **({"ExclusiveStartKey": start} if start else {}))
            return found["Items"], found.get("LastEvaluatedKey")
        items, following = paging.merged(
            {subject: fetch}, page.limit, page.start, order=lambda item: item["period"]["S"],
            key_of=lambda item: {"subject": item["subject"], "period": item["period"]},
            keep=(lambda item: keep(item["period"]["S"])) if keep else None, newest_first=True)
        return [_row(item) for item in items], following


def _add(table, key, metrics):
    scope, subject, period = key
    return {"TableName": table,
            "Key": {"subject": {"S": f"{scope}#{subject}"}, "period": {"S": period}},
            "UpdateExpression": "ADD " + ", ".join(f"#m{i} :v{i}" for i in range(len(metrics)))
            + " SET #shard = :shard",
            "ExpressionAttributeNames": {**{f"#m{i}": f"m_{m}" for i, m in enumerate(metrics)},
                                         "#shard": "period_shard"},
            "ExpressionAttributeValues": {**{f":v{i}": {"N": str(a)}
                                             for i, a in enumerate(metrics.values())},
                                          ":shard": {"S": period_shard(scope, subject, period)}}}


def period_shard(scope: str, subject: str, period: str) -> str:
    """The counter item's key in the ByPeriodShard index: its period and its subject's shard."""
    return shards.key(period, f"{scope}#{subject}", shards.SCORE_SHARDS)


def _row(item):
    scope, subject = item["subject"]["S"].split("#", 1)
    return {"scope": scope, "subject": subject, "period": item["period"]["S"],
            "metrics": {name[2:]: int(value["N"]) for name, value in item.items()
                        if name.startswith("m_")}}
