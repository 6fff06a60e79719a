"""ScoresTable: performance counters, one item per (scope#subject, period), each metric a
number that events ADD to atomically; the ByPeriod index reads a whole period, one item per
subject.

Raw boto3 rather than a pynamodb model: the metrics are attributes named at run time
(`m_<metric>`), which one UpdateItem ADDs all at once and a query reads back whole; a pynamodb
model knows only the attributes it declares and drops the others when it reads an item."""
from __future__ import annotations

import os

from .. import aws


class DynamoCounters:
    def __init__(self, table: str | None = None):
        self.table = table or os.environ.get("SCORES_TABLE", "ScoresTable")

    def add(self, grouped):
        client = aws.client("dynamodb")
        for (scope, subject, period), metrics in grouped.items():
            names = {f"#m{i}": f"m_{metric}" for i, metric in enumerate(metrics)}
            values = {f":v{i}": {"N": str(amount)} for i, amount in enumerate(metrics.values())}
            client.update_item(
                TableName=self.table,
                Key={"subject": {"S": f"{scope}#{subject}"}, "period": {"S": period}},
                UpdateExpression="ADD " + ", ".join(f"#m{i} :v{i}" for i in range(len(metrics))),
                ExpressionAttributeNames=names, ExpressionAttributeValues=values)

    def of_period(self, period):
        client = aws.client("dynamodb")
        rows, start = [], None
        while True:
            page = client.query(TableName=self.table, IndexName="ByPeriod",
                                KeyConditionExpression="#p = :p",
                                ExpressionAttributeNames={"#p": "period"},
                                ExpressionAttributeValues={":p": {"S": period}},
                                **({"ExclusiveStartKey": start} if start else {}))
            rows += [_row(item) for item in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                return rows

    def periods_of(self, scope, subject):
        page = aws.client("dynamodb").query(
            TableName=self.table, KeyConditionExpression="subject = :s",
            ExpressionAttributeValues={":s": {"S": f"{scope}#{subject}"}},
            ProjectionExpression="#p", ExpressionAttributeNames={"#p": "period"})
        return [item["period"]["S"] for item in page["Items"]]


def _row(item):
    scope, subject = item["subject"]["S"].split("#", 1)
    return {"scope": scope, "subject": subject, "period": item["period"]["S"],
            "metrics": {name[2:]: int(value["N"]) for name, value in item.items()
                        if name.startswith("m_")}}
