"""Who supervises what: a supervision office sees its own hall and every hall below it."""
from __future__ import annotations

from ...domain.cases import Caller, is_case_number
from ...domain.catalog import Catalog
from ...domain.errors import Forbidden, NotFound


class Scope:
    def __init__(self, catalog: Catalog, cases, tasks):
        self.catalog = catalog
        self.cases = cases
        self.tasks = tasks

    def halls_of(self, caller: Caller) -> set[str]:
        hall = self.catalog.office_hall(caller.principal)
        if hall is None:
            raise Forbidden(f"{caller.principal} is not a supervision office of any hall",
                            field="Authorization")
        return self.catalog.halls_under(hall)

    def check(self, caller: Caller, hall: str, what: str) -> None:
        if hall not in self.halls_of(caller):
            raise Forbidden(f"{what} belongs to hall {hall}, outside the halls "
                            f"{caller.principal} supervises", field="hall")

    def check_case(self, caller: Caller, case_id: str) -> str:
        """A case's or a supervised task's hall must be the caller's or below it. `case_id` may
        also be the case's 受理编号; the answer is the id of the case (or task) checked."""
        case_id = self.case_id_of(case_id)
        case = self.cases.get(case_id) if case_id else None
        if case is not None:
            self.check(caller, case.hall, f"case {case_id}")
            return case_id
        task = self.tasks.get(case_id)
        if task is not None:
            self.check(caller, task.hall, f"{task.title} {case_id}")
            return case_id
        raise NotFound(f"no case {case_id!r}", field="case_id")

    def case_id_of(self, reference: str) -> str:
        """A case's id from its id or its 受理编号 (one index lookup; an unknown number: 404)."""
        if not is_case_number(reference):
            return reference
        found = self.cases.by_case_no(reference)
        if found is None:
            raise NotFound(f"no case numbered {reference}", field="case_id")
        return found
