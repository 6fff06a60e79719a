"""Cases, their trails and running numbers in DynamoDB (pynamodb models). The tables themselves
are defined once in infra/resources.json; tests check these models agree with it."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import (AllProjection, GlobalSecondaryIndex, IncludeProjection,
                              KeysOnlyProjection)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.cases import Case
from ..domain.errors import ConcurrentChange
from ..domain.trail import TrailRecord


def _meta(table_env: str, default: str):
    class Meta:
        table_name = os.environ.get(table_env, default)
        region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    return Meta


class ByApplicant(GlobalSecondaryIndex):
    class Meta:
        index_name = "ByApplicant"
        projection = AllProjection()

    applicant_id_number = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class UnratedByHall(GlobalSecondaryIndex):
    """Completed cases not rated yet, by hall and completion: the daily default rating reads
    only the cases whose rating period may have ended (sparse: set only while unrated)."""
    class Meta:
        index_name = "UnratedByHall"
        projection = KeysOnlyProjection()

    hall = UnicodeAttribute(hash_key=True)
    unrated_since = UnicodeAttribute(range_key=True)


class CompletedByDay(GlobalSecondaryIndex):
    """Completed cases by the China day they completed: the public disclosure board reads the
    latest without scanning (sparse: set once a case completes)."""
    class Meta:
        index_name = "CompletedByDay"
        projection = AllProjection()

    completed_day = UnicodeAttribute(hash_key=True)
    completed_at = UnicodeAttribute(range_key=True)


class CaseModel(Model):
    Meta = _meta("CASES_TABLE", "CasesTable")
    case_id = UnicodeAttribute(hash_key=True)
    applicant_id_number = UnicodeAttribute()
    created_at = UnicodeAttribute()
    hall = UnicodeAttribute(null=True)
    unrated_since = UnicodeAttribute(null=True)
    completed_day = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    trail_seq = NumberAttribute()
    data = JSONAttribute()
    by_applicant = ByApplicant()
    unrated_by_hall = UnratedByHall()
    completed_by_day = CompletedByDay()

    @classmethod
    def of(cls, case: Case) -> "CaseModel":
        unrated = case.completed_at if case.completed_at and not case.rating else None
        return cls(case.case_id, applicant_id_number=case.applicant["id_number"],
                   created_at=case.created_at, hall=case.hall, unrated_since=unrated,
                   completed_day=china_day(case.completed_at) if case.completed_at else None,
                   completed_at=case.completed_at, trail_seq=case.trail_seq,
                   data=case.to_dict())


class ByAnchorPeriod(GlobalSecondaryIndex):
    """Trail records by the hour (UTC) they were written and their chain's shard
    (`2026-11-21T02#07`, domain/anchors.py): the hourly anchoring job reads the heads of the
    chains that changed in an hour from 16 partitions, without scanning the table. Sharded
    because one partition per hour would take every trail write of the province's busiest hour;
    only the record's hash is projected (the record itself is not copied)."""
    class Meta:
        index_name = "ByAnchorPeriod"
        projection = IncludeProjection(["record_hash"])

    anchor_period = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class TrailModel(Model):
    Meta = _meta("TRAIL_TABLE", "TrailTable")
    case_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    record = JSONAttribute()
    anchor_period = UnicodeAttribute(null=True)
    record_hash = UnicodeAttribute(null=True)
    by_anchor_period = ByAnchorPeriod()

    @classmethod
    def of(cls, record: TrailRecord, written: datetime | None = None) -> "TrailModel":
        from ..domain import anchors

        written = written or datetime.now(timezone.utc)
        return cls(record.case_id, record.seq, record=record.to_dict(),
                   anchor_period=anchors.index_key(record.case_id, written),
                   record_hash=record.hash)


class CounterModel(Model):
    Meta = _meta("COUNTERS_TABLE", "CountersTable")
    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class DynamoCases:
    def get(self, case_id):
        try:
            return Case.from_dict(CaseModel.get(case_id, consistent_read=True).data)
        except CaseModel.DoesNotExist:
            return None

    def create(self, case, record):
        self._write(case.case_id, [(CaseModel.of(case), CaseModel.case_id.does_not_exist()),
                                   _trail(record)])

    def update(self, case, record, branches=()):
        # Optimistic: the stored case must still be at the trail head this change follows, and
        # each branch at the version it was read at.
        self._write(case.case_id, [(CaseModel.of(case), CaseModel.trail_seq == record.seq - 1),
                                   _trail(record)] + [_branch(b) for b in branches])

    def save_branches(self, branches):
        if branches:
            self._write(branches[0].case_id, [_branch(b) for b in branches])

    def _write(self, case_id, writes):
        _transact(writes, f"case {case_id}", "case_id")
        for branch, _ in writes:
            if isinstance(branch, BranchModel):
                branch.written.version = int(branch.version)

    def by_applicant(self, id_number):
        return [Case.from_dict(m.data) for m in CaseModel.by_applicant.query(id_number)]

    def completed_on(self, day, limit):
        return [Case.from_dict(m.data) for m in CaseModel.completed_by_day.query(
            day, scan_index_forward=False, limit=limit)]

    def unrated(self, hall, completed_before):
        return [m.case_id for m in CaseModel.unrated_by_hall.query(
            hall, range_key_condition=CaseModel.unrated_since < completed_before)]

    def trail(self, case_id):
        return [TrailRecord(**m.record)
                for m in TrailModel.query(case_id, consistent_read=True)]

    def next_in_sequence(self, name):
        counter = CounterModel(name)
        counter.update(actions=[CounterModel.value.add(1)])
        return int(counter.value)

    def branch(self, case_id, branch_id):
        try:
            return _read_branch(BranchModel.get(case_id, branch_id, consistent_read=True))
        except BranchModel.DoesNotExist:
            return None

    def branches(self, case_id):
        return [_read_branch(m) for m in BranchModel.query(case_id, consistent_read=True)]

    def open_branches(self, department):
        return [_read_branch(m) for m in BranchModel.open_by_department.query(department)]


def _transact(writes, what: str, field: str) -> None:
    """Saves every (model, condition) in one transaction: all or nothing; a failed condition
    means someone changed the item since it was read."""
    try:
        with TransactWrite(connection=Connection(region=CaseModel.Meta.region,
                                                 host=CaseModel.Meta.host)) as transaction:
            for model, condition in writes:
                transaction.save(model, condition=condition)
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            raise ConcurrentChange(f"{what} changed meanwhile; read it again", field=field)
        raise


def china_day(instant: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(instant).astimezone(ZoneInfo("Asia/Shanghai")).date() \
        .isoformat()


def _trail(record):
    return TrailModel.of(record), TrailModel.seq.does_not_exist()


def _branch(branch):
    """A branch write, conditional on the version it was read at."""
    from ..domain.approval import DECIDED, OPEN, answer

    model = BranchModel(branch.case_id, branch.branch_id, department=branch.department,
                        version=branch.version + 1, data=branch.to_dict())
    if branch.status == OPEN and branch.kind != "case":
        model.open_since = branch.clock["start"]
    if branch.status != DECIDED:
        model.answer = json.dumps(answer(branch, datetime.now(timezone.utc)))
    model.written = branch
    condition = BranchModel.version.does_not_exist() if branch.version == 0 \
        else BranchModel.version == branch.version
    return model, condition


def _read_branch(model):
    from ..domain.approval import Branch

    branch = Branch.from_dict(model.data)
    branch.version = int(model.version)
    return branch


class DynamoSupervision:
    """Supervision events, append-only: a redelivered event finds its record already there."""

    def record(self, event):
        """True when the event is new (so it is notified once)."""
        from pynamodb.exceptions import PutError

        try:
            SupervisionModel(event["case_id"], event["event_id"], department=event["department"],
                             at=event["at"], hall=event.get("hall"), data=event).save(
                condition=SupervisionModel.event_id.does_not_exist())
            return True
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False

    def of_halls(self, halls, since=None):
        condition = SupervisionModel.at >= since if since else None
        found = [m.data for hall in sorted(halls)
                 for m in SupervisionModel.by_hall.query(hall, range_key_condition=condition)]
        return sorted(found, key=lambda e: e["at"])

    def of_case(self, case_id):
        return sorted((m.data for m in SupervisionModel.query(case_id, consistent_read=True)),
                      key=lambda e: e["at"])

    def of_department(self, department):
        return [m.data for m in SupervisionModel.by_department.query(department)]


class OpenByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "OpenByDepartment"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    open_since = UnicodeAttribute(range_key=True)


class BranchModel(Model):
    """A department's part in a case (and the case's own clock). `open_since` is set only
    while the branch waits for its department, so the index lists exactly the open tasks."""
    Meta = _meta("BRANCHES_TABLE", "BranchesTable")
    case_id = UnicodeAttribute(hash_key=True)
    branch_id = UnicodeAttribute(range_key=True)
    department = UnicodeAttribute()
    open_since = UnicodeAttribute(null=True)
    answer = UnicodeAttribute(null=True)      # the plan the workflow reads when resumed
    version = NumberAttribute()
    data = JSONAttribute()
    open_by_department = OpenByDepartment()


class ByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "ByDepartment"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class ByHall(GlobalSecondaryIndex):
    """Cards and events of one hall in time order: a supervisor reads their hall and those
    below it, one query per hall."""
    class Meta:
        index_name = "ByHall"
        projection = AllProjection()

    hall = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class SupervisionModel(Model):
    Meta = _meta("SUPERVISION_TABLE", "SupervisionTable")
    case_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    department = UnicodeAttribute()
    at = UnicodeAttribute()
    hall = UnicodeAttribute(null=True)
    data = JSONAttribute()
    by_department = ByDepartment()
    by_hall = ByHall()


class TaskOpenByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "OpenByDepartment"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    open_since = UnicodeAttribute(range_key=True)


class TaskByHall(GlobalSecondaryIndex):
    class Meta:
        index_name = "ByHall"
        projection = AllProjection()

    hall = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class TaskModel(Model):
    """Supervised work that is not a case (orders, investigations, rectifications, 12345,
    consultations). `open_since` is set only while it waits for its department."""
    Meta = _meta("TASKS_TABLE", "TasksTable")
    task_id = UnicodeAttribute(hash_key=True)
    department = UnicodeAttribute()
    hall = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    open_since = UnicodeAttribute(null=True)
    version = NumberAttribute()
    data = JSONAttribute()
    open_by_department = TaskOpenByDepartment()
    by_hall = TaskByHall()


class DynamoTasks:
    def get(self, task_id):
        try:
            return _read_task(TaskModel.get(task_id, consistent_read=True))
        except TaskModel.DoesNotExist:
            return None

    def save(self, task, record=None):
        """The task at the version it was read at, with its trail record: both or neither."""
        model = TaskModel(task.task_id, department=task.department, hall=task.hall,
                          opened_at=task.opened_at, version=task.version + 1,
                          data={**task.to_dict(), "version": task.version + 1})
        if task.status == "open":
            model.open_since = task.opened_at
        condition = TaskModel.version.does_not_exist() if task.version == 0 \
            else TaskModel.version == task.version
        writes = [(model, condition)] + ([_trail(record)] if record is not None else [])
        _transact(writes, f"task {task.task_id}", "task_id")
        task.version += 1

    def open_of_department(self, department):
        return [_read_task(m) for m in TaskModel.open_by_department.query(department)]

    def of_halls(self, halls):
        found = [_read_task(m) for hall in sorted(halls) for m in TaskModel.by_hall.query(hall)]
        return sorted(found, key=lambda task: task.opened_at)

    def trail(self, task_id):
        return [TrailRecord(**m.record)
                for m in TrailModel.query(task_id, consistent_read=True)]


def _read_task(model):
    from ..domain.supervised import SupervisedTask

    task = SupervisedTask.from_dict(model.data)
    task.version = int(model.version)
    return task


class FaqModel(Model):
    """Answers to online consultations that a department published to an item's guide."""
    Meta = _meta("FAQS_TABLE", "FaqsTable")
    item = UnicodeAttribute(hash_key=True)
    source = UnicodeAttribute(range_key=True)
    data = JSONAttribute()


class DynamoFaqs:
    def publish(self, item, entry):
        FaqModel(item, entry["source"], data=entry).save()

    def of_item(self, item):
        return sorted((m.data for m in FaqModel.query(item)), key=lambda e: e["published_at"])


MODELS = (CaseModel, TrailModel, CounterModel, BranchModel, SupervisionModel, TaskModel,
          FaqModel)


class DynamoCounters:
    """Performance counters: one item per (scope#subject, period), each metric a number that
    events ADD to atomically; the ByPeriod index reads a whole period, one item per subject."""

    def __init__(self, table: str | None = None):
        self.table = table or os.environ.get("SCORES_TABLE", "ScoresTable")

    def add(self, grouped):
        from . import aws

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
        from . import aws

        client = aws.client("dynamodb")
        rows, start = [], None
        while True:
            page = client.query(TableName=self.table, IndexName="ByPeriod",
                                KeyConditionExpression="#p = :p",
                                ExpressionAttributeNames={"#p": "period"},
                                ExpressionAttributeValues={":p": {"S": period}},
                                **({"ExclusiveStartKey": start} if start else {}))
            rows += [_counter_row(item) for item in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                return rows

    def periods_of(self, scope, subject):
        from . import aws

        page = aws.client("dynamodb").query(
            TableName=self.table, KeyConditionExpression="subject = :s",
            ExpressionAttributeValues={":s": {"S": f"{scope}#{subject}"}},
            ProjectionExpression="#p", ExpressionAttributeNames={"#p": "period"})
        return [item["period"]["S"] for item in page["Items"]]


def _counter_row(item):
    scope, subject = item["subject"]["S"].split("#", 1)
    return {"scope": scope, "subject": subject, "period": item["period"]["S"],
            "metrics": {name[2:]: int(value["N"]) for name, value in item.items()
                        if name.startswith("m_")}}
