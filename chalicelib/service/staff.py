"""A signed-in staff member's own record as the workstation and the board show it: who they
are, where they work, their role and the rights it gives (chalicelib/domain/rights.py), so a
screen offers only what the server will let them do."""
from __future__ import annotations

from ..domain import rights
from ..domain.cases import Caller
from ..domain.catalog import Catalog


def profile(caller: Caller, catalog: Catalog) -> dict:
    staff = caller.staff
    department = catalog.departments.get(staff.department or "")
    hall = catalog.halls.get(staff.hall or "")
    office = (hall or {}).get("supervision_office") or {}
    point = catalog.agent_points.get(staff.agent_point or "")
    return {
        "staff_id": staff.staff_id, "name": staff.name,
        "role": staff.role, "role_name": rights.ROLE_NAMES[staff.role],
        "kind": rights.KIND[staff.role],
        "department": staff.department, "department_name": department and department["name"],
        "window": staff.window,
        "hall": staff.hall, "hall_name": hall and hall["name"],
        "office": staff.office, "office_name": office.get("name") if staff.office else None,
        "agent_point": staff.agent_point, "agent_point_name": point and point["name"],
        "rights": sorted(rights.rights_of(staff.role)),
    }
