"""TasksTable: supervised work that is not a case (orders, investigations, rectifications,
12345, consultations), each written with its trail record (trail.py), both or neither."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ...domain.supervised import SupervisedTask
from . import paging, trail
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


class TaskStartsDue(GlobalSecondaryIndex):
    """Tasks whose workflow start was committed and not yet carried out, by hall and since
    when (sparse: set only while one is pending): the sweeper reads only those."""
    class Meta:
        index_name = "StartsDue"
        projection = KeysOnlyProjection()

    hall = UnicodeAttribute(hash_key=True)
    start_due = UnicodeAttribute(range_key=True)


class TaskByStaff(GlobalSecondaryIndex):
    """Supervised work about one staff member (an order on their case or card, a complaint
    about them and its investigation), for their archive (效能档案)."""
    class Meta:
        index_name = "ByStaff"
        projection = AllProjection()

    staff_id = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class TaskModel(Model):
    """`open_since` is set only while the task waits for its department."""
    Meta = meta("tasks_table", "TasksTable")
    task_id = UnicodeAttribute(hash_key=True)
    department = UnicodeAttribute()
    hall = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    open_since = UnicodeAttribute(null=True)
    start_due = UnicodeAttribute(null=True)
    staff_id = UnicodeAttribute(null=True)
    version = NumberAttribute()
    data = JSONAttribute()
    open_by_department = TaskOpenByDepartment()
    by_hall = TaskByHall()
    by_staff = TaskByStaff()
    starts_due = TaskStartsDue()


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
        model.start_due = task.start_due
        model.staff_id = (task.subject or {}).get("staff_id") or None
        writes = [(model, at_version(TaskModel.version, task.version))] \
            + ([trail.append(record)] if record is not None else [])
        transact(writes, f"task {task.task_id}", "task_id")
        task.version += 1

    def open_of_department(self, department, page):
        """One page of the department's open tasks, the longest waiting first (its index)."""
        found, following = paging.merged(
            {department: paging.query(TaskModel.open_by_department, department)},
            page.limit, page.start, order=lambda m: (m.open_since, m.task_id),
            key_of=lambda m: paging.keys(department=m.department, open_since=m.open_since,
                                         task_id=m.task_id))
        return [_read(m) for m in found], following

    def of_staff(self, staff_id, page):
        """One page of the supervised work about the staff member, the newest opened first."""
        found, following = paging.merged(
            {staff_id: paging.query(TaskModel.by_staff, staff_id, newest_first=True)},
            page.limit, page.start, order=lambda m: (m.opened_at, m.task_id),
            key_of=lambda m: paging.keys(staff_id=m.staff_id, opened_at=m.opened_at,
                                         task_id=m.task_id), newest_first=True)
        return [_read(m) for m in found], following

    def of_halls(self, halls, page, keep=None):
        """One page of the halls' tasks, the newest opened first (one query per hall, merged);
        `keep` filters the tasks read."""
        found, following = paging.merged(
            {hall: paging.query(TaskModel.by_hall, hall, newest_first=True) for hall in halls},
            page.limit, page.start, order=lambda m: (m.opened_at, m.task_id),
            key_of=lambda m: paging.keys(hall=m.hall, opened_at=m.opened_at, task_id=m.task_id),
            keep=(lambda m: keep(_read(m))) if keep else None, newest_first=True)
        return [_read(m) for m in found], following

    def starts_due(self, hall, before):
        """(task id, since when) of the hall's pending workflow starts committed before
        `before`, the oldest first."""
        return [(m.task_id, m.start_due)
                for m in TaskModel.starts_due.query(hall, TaskModel.start_due <= before)]

    def trail(self, task_id):
        return trail.chain(task_id)


def _read(model: TaskModel) -> SupervisedTask:
    task = SupervisedTask.from_dict(model.data)
    task.version = int(model.version)
    return task
