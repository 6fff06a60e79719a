"""Who a card names (首问负责, 责任到人): the staff member, the window, the department and its chief
representative, each with the name the directory gives, resolved once when the card is raised
and kept with it, so that a card read years later names the people who answered for it then.
Every kind of card (a light, a violation found by rule, a supervised task's timer) is named
here, in one place. Plain rules over the catalog, no I/O."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .catalog import Catalog

# The fields every card carries about people, even when unknown (null).
FIELDS = ("department", "department_name", "window", "window_name", "staff_id", "staff_name",
          "chief_staff_id", "chief_name")


def named(catalog: "Catalog", department: str | None, window: str | None = None,
          staff_id: str | None = None, chief_staff_id: str | None = None) -> dict:
    """The people of a card with their names. The window is the one given, else the one the
    staff member sits at; the chief representative is the one given (a step's, as assigned
    when it started), else the department's. An id the directory does not know keeps its id
    with no name."""
    dept = catalog.departments.get(department or "") or {}
    person = catalog.staff(staff_id) if staff_id else None
    if not window and person is not None and person.department == department:
        window = person.window
    window_entry = next((w for w in dept.get("windows", ()) if w["code"] == window), None)
    if window_entry is None and window:
        window_entry = next((w for d in catalog.departments.values() for w in d["windows"]
                             if w["code"] == window), None)
    chief_staff_id = chief_staff_id or (dept.get("chief_representative") or {}).get("staff_id")
    chief = catalog.staff(chief_staff_id) if chief_staff_id else None
    return {"department": department, "department_name": dept.get("name"),
            "window": window, "window_name": window_entry.get("name") if window_entry else None,
            "staff_id": staff_id, "staff_name": person.name if person else None,
            "chief_staff_id": chief_staff_id, "chief_name": chief.name if chief else None}


def staff_of_actor(actor: str | None) -> str | None:
    """The staff id of a trail actor `staff:<id>`; None for anyone else."""
    if isinstance(actor, str) and actor.startswith("staff:"):
        return actor.split(":", 1)[1]
    return None
