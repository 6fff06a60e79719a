"""TasksTable: supervised work that is not a case (orders, investigations, rectifications,
12345, consultations), each written with its trail record (trail.py), both or neither."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ...domain.supervised import SupervisedTask
from . import trail
from .table import at_version, meta, transact


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
    """`open_since` is set only while the task waits for its department."""
    Meta = meta("tasks_table", "TasksTable")
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
            return _read(TaskModel.get(task_id, consistent_read=True))
        except TaskModel.DoesNotExist:
            return None

    def save(self, task, record=None):
        """The task at the version it was read at, with its trail record: both or neither."""
        model = TaskModel(task.task_id, department=task.department, hall=task.hall,
                          opened_at=task.opened_at, version=task.version + 1,
                          data={**task.to_dict(), "version": task.version + 1})
        if task.status == "open":
            model.open_since = task.opened_at
        writes = [(model, at_version(TaskModel.version, task.version))] \
            + ([trail.append(record)] if record is not None else [])
        transact(writes, f"task {task.task_id}", "task_id")
        task.version += 1

    def open_of_department(self, department):
        return [_read(m) for m in TaskModel.open_by_department.query(department)]

    def of_halls(self, halls):
        found = [_read(m) for hall in sorted(halls) for m in TaskModel.by_hall.query(hall)]
        return sorted(found, key=lambda task: task.opened_at)

    def trail(self, task_id):
        return trail.chain(task_id)


def _read(model: TaskModel) -> SupervisedTask:
    task = SupervisedTask.from_dict(model.data)
    task.version = int(model.version)
    return task
