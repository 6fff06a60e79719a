"""SupervisionTable: supervision events (lights, cards, violations), append-only: a redelivered
event finds its record already there."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from . import paging
from .table import meta, put_if


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


class ByStaff(GlobalSecondaryIndex):
    """The cards and events naming one staff member, for their archive (效能档案)."""
    class Meta:
        index_name = "ByStaff"
        projection = AllProjection()

    staff_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class SupervisionModel(Model):
    Meta = meta("supervision_table", "SupervisionTable")
    case_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    department = UnicodeAttribute()
    at = UnicodeAttribute()
    hall = UnicodeAttribute(null=True)
    staff_id = UnicodeAttribute(null=True)
    data = JSONAttribute()
    by_department = ByDepartment()
    by_hall = ByHall()
    by_staff = ByStaff()


class DynamoSupervision:
    def record(self, event):
        """True when the event is new (so it is notified once)."""
        return put_if(SupervisionModel(event["case_id"], event["event_id"],
                                       department=event["department"], at=event["at"],
                                       hall=event.get("hall"),
                                       staff_id=event.get("staff_id") or None, data=event),
                      SupervisionModel.event_id.does_not_exist())

    def of_halls(self, halls, page, since=None, keep=None):
        """One page of the halls' events, newest first (one query per hall, merged): (events,
        next position or None)."""
        condition = SupervisionModel.at >= since if since else None
        return _page({hall: paging.query(SupervisionModel.by_hall, hall, condition, True)
                      for hall in halls}, page, keep, lambda m: paging.keys(
                          hall=m.hall, at=m.at, case_id=m.case_id, event_id=m.event_id))

    def of_case(self, case_id):
        return sorted((m.data for m in SupervisionModel.query(case_id, consistent_read=True)),
                      key=lambda e: e["at"])

    def of_department(self, department, page, since=None, keep=None):
        """One page of the department's events, newest first (one query of its index)."""
        condition = SupervisionModel.at >= since if since else None
        return _page({department: paging.query(SupervisionModel.by_department, department,
                                               condition, True)}, page, keep,
                     lambda m: paging.keys(department=m.department, at=m.at,
                                           case_id=m.case_id, event_id=m.event_id))


    def of_staff(self, staff_id, page):
        """One page of the events naming the staff member, newest first (its index)."""
        return _page({staff_id: paging.query(SupervisionModel.by_staff, staff_id, None, True)},
                     page, None, lambda m: paging.keys(staff_id=m.staff_id, at=m.at,
                                                       case_id=m.case_id, event_id=m.event_id))


def _page(sources, page, keep, key_of):
    found, following = paging.merged(
        sources, page.limit, page.start, order=lambda m: (m.at, m.case_id, m.event_id),
        key_of=key_of, keep=(lambda m: keep(m.data)) if keep else None, newest_first=True)
    return [m.data for m in found], following
