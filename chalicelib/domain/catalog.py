"""The service guide (办事指南): halls, departments with their windows and power lists (权力清单),
and the items citizens apply for. Read-only reference data, published as a whole."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from . import rights
from .errors import InvalidInput, NotFound
from .halls import HallPolicy
from .search import GuideIndex

POWER_CATEGORIES = ("行政许可", "行政确认", "行政备案", "行政给付", "审核转报", "公共服务")
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 50       # what a person types into the guide's search field
_INDEX_BUILT_ONCE = threading.Lock()


@dataclass(frozen=True)
class Staff:
    """A person of the staff directory: a department's window staff or chief representative, a
    supervision office's staff, or a village agent point's operator. `role` is derived from the
    post and the place (chalicelib/domain/rights.py); `hall` is where they work."""
    staff_id: str
    name: str
    phone: str
    department: str | None
    window: str | None
    post: str | None = None
    role: str | None = None
    hall: str | None = None
    office: str | None = None          # the supervision office (驻厅纪检监察) they belong to
    agent_point: str | None = None     # the village agent point (代办点) they operate


class Catalog:
    def __init__(self, halls: list[dict], departments: list[dict], items: list[dict],
                 powers: list[dict] | None = None, synonyms: dict | None = None):
        self.halls = {h["code"]: h for h in halls}
        # The power list (权力清单) of record: every power a department holds, with the item
        # that offers it online, or none yet. Without one, each department's `power_list` (the
        # items it may handle) stands for it.
        self.powers = {p["code"]: p for p in powers or ()}
        self.departments = {d["code"]: d for d in departments}
        self.items = {i["code"]: i for i in items}
        # The everyday words that mean a catalog term, and the words around a query
        # (data/synonyms.json); the search index is built from them on the first search.
        self.synonyms = synonyms or {}
        self._index: GuideIndex | None = None
        self._filtered: dict[tuple[str, str], frozenset[str]] | None = None
        self._deciders = {code: {b["department"] for s in item["stages"] for b in s["departments"]}
                          for code, item in self.items.items()}
        self.policies = {code: HallPolicy.of(hall) for code, hall in self.halls.items()}
        self._staff: dict[str, Staff] = {}
        self.agent_points: dict[str, dict] = {}
        for dept in departments:
            chief = dept["chief_representative"]
            self._staff[chief["staff_id"]] = Staff(
                chief["staff_id"], chief["name"], chief["phone"], dept["code"], None,
                role=rights.role_of("chief_representative"), hall=dept["hall"])
            for window in dept["windows"]:
                for person in window["staff"]:
                    self._staff[person["staff_id"]] = Staff(
                        person["staff_id"], person["name"], person["phone"], dept["code"],
                        window["code"], post=person.get("post"),
                        role=rights.role_of("window", person.get("post")), hall=window["hall"])
        for hall in halls:
            office = hall.get("supervision_office") or {}
            for person in office.get("staff", ()):
                self._staff[person["staff_id"]] = Staff(
                    person["staff_id"], person["name"], person["phone"], None, None,
                    post=person["post"], role=rights.role_of("office", person["post"]),
                    hall=hall["code"], office=office["code"])
            for point in hall.get("agent_points", ()):
                self.agent_points[point["code"]] = {**point, "hall": hall["code"]}
                for person in point["staff"]:
                    self._staff[person["staff_id"]] = Staff(
                        person["staff_id"], person["name"], person["phone"], None, None,
                        post=person["post"], role=rights.role_of("agent_point"),
                        hall=hall["code"], agent_point=point["code"])

    # -- lookups ---------------------------------------------------------------------------
    def item(self, code: str, field: str = "item") -> dict:
        try:
            return self.items[code]
        except KeyError:
            raise NotFound(f"no item with code {code!r} in the service guide", field=field)

    def hall(self, code: str, field: str = "hall") -> dict:
        try:
            return self.halls[code]
        except KeyError:
            raise NotFound(f"no hall with code {code!r}", field=field)

    def department(self, code: str, field: str = "department") -> dict:
        try:
            return self.departments[code]
        except KeyError:
            raise NotFound(f"no department with code {code!r}", field=field)

    def policy(self, hall: str) -> HallPolicy:
        """The hall's own supervision policy (chalicelib/domain/halls.py)."""
        return self.policies[hall]

    def staff(self, staff_id: str) -> Staff | None:
        return self._staff.get(staff_id)

    def directory(self) -> list[Staff]:
        """Everyone who signs in to act: window staff, chief representatives, supervision
        offices' staff and agent point operators (one user each in the staff sign-in)."""
        return list(self._staff.values())

    def deciding_departments(self, item_code: str) -> set[str]:
        return self._deciders[item_code]

    def in_power_list(self, department: str, item_code: str) -> bool:
        return item_code in self.departments[department]["power_list"]

    def office_hall(self, office: str) -> str | None:
        """The hall whose supervision office (驻厅纪检监察) this is."""
        return next((code for code, hall in self.halls.items()
                     if (hall.get("supervision_office") or {}).get("code") == office), None)

    def halls_under(self, code: str) -> set[str]:
        """A hall and every hall below it (city → district → street → community)."""
        found, frontier = {code}, [code]
        while frontier:
            parent = frontier.pop()
            children = [h for h, hall in self.halls.items() if hall.get("parent") == parent]
            found.update(children)
            frontier.extend(children)
        return found

    # -- the guide as the public reads it --------------------------------------------------
    def search(self, keyword: str = "", hall: str | None = None, department: str | None = None,
               category: str | None = None, page: int = 1, page_size: int = 20) -> dict:
        """The items a keyword finds, best first by the guide's ranking rule
        (chalicelib/domain/search.py); without a keyword, every item in the catalog's order."""
        if hall:
            self.hall(hall)
        if department:
            self.department(department)
        if category and category not in POWER_CATEGORIES:
            raise InvalidInput(f"category must be one of {', '.join(POWER_CATEGORIES)}",
                               field="category")
        if page < 1:
            raise InvalidInput("page must be 1 or more", field="page")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}",
                               field="page_size")
        if len(keyword or "") > MAX_QUERY_LENGTH:
            raise InvalidInput(f"q must be at most {MAX_QUERY_LENGTH} characters", field="q")
        hits = self.search_index().codes(keyword) if (keyword or "").strip() else list(self.items)
        for wanted in (hall and self._filters("hall", hall),
                       department and self._filters("department", department),
                       category and self._filters("category", category)):
            if wanted is not None:
                hits = [code for code in hits if code in wanted]
        start = (page - 1) * page_size
        return {"total": len(hits), "page": page, "page_size": page_size,
                "items": [self.summary(self.items[code])
                          for code in hits[start:start + page_size]]}

    def _filters(self, kind: str, value: str) -> frozenset[str]:
        """The items a filter lets through: a hall's (offered there), a department's (it leads
        or decides in them), a category's."""
        if self._filtered is None:
            filtered: dict[tuple[str, str], set[str]] = {}
            for code, item in self.items.items():
                keys = [("hall", h) for h in item["halls"]]
                keys += [("department", d) for d in {item["lead_department"],
                                                     *self._deciders[code]}]
                keys.append(("category", item["category"]))
                for key in keys:
                    filtered.setdefault(key, set()).add(code)
            self._filtered = {key: frozenset(codes) for key, codes in filtered.items()}
        return self._filtered.get((kind, value), frozenset())

    def search_index(self) -> GuideIndex:
        """The guide's search index (chalicelib/domain/search.py), built on the first search
        (once: searches arriving meanwhile wait for it)."""
        if self._index is None:
            with _INDEX_BUILT_ONCE:
                if self._index is None:
                    names = {code: [d["name"], d.get("short_name") or ""]
                             for code, d in self.departments.items()}
                    self._index = GuideIndex(self.items.values(), names, self.synonyms)
        return self._index

    def summary(self, item: dict) -> dict:
        return {"code": item["code"], "name": item["name"], "category": item["category"],
                "kind": item["kind"], "halls": item["halls"],
                "lead_department": item["lead_department"],
                "department_name": self.departments[item["lead_department"]]["name"],
                "promised_limit_days": item["promised_limit_days"],
                "legal_limit_days": item["legal_limit_days"],
                "limit_unit": item.get("limit_unit", "working_days")}

    def guide(self, code: str) -> dict:
        """The full guide of an item, with department names resolved for display."""
        item = self.item(code)
        stages = [{**stage, "departments": [
            {**branch, "department_name": self.departments[branch["department"]]["name"]}
            for branch in stage["departments"]]} for stage in item["stages"]]
        return {**item, "stages": stages,
                "limit_unit": item.get("limit_unit", "working_days"),
                "department_name": self.departments[item["lead_department"]]["name"],
                "hall_names": {h: self.halls[h]["name"] for h in item["halls"]},
                "implementing_bodies": {h: self.body(item["lead_department"], h)
                                        for h in item["halls"]}}

    def body(self, department: str, hall: str) -> str:
        """The body that handles a department's work in a hall: the county bureau, police
        station or street office staffing its window there, else the department itself."""
        dept = self.departments[department]
        window = next((w for w in dept["windows"] if w["hall"] == hall), None)
        return ((window or {}).get("body") or {}).get("name") or dept["name"]
