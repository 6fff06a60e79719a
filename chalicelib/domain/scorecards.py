"""Scorecards (考核指标): the four rates (入驻率, 网办率, 按时办结率, 满意率) and the other indices
of one department, window or staff member in one period, read from its counters and what the
catalog says of it. A rate without a denominator has no value (None), never 100%. Plain rules,
no I/O."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from .clock import WORKING_DAY
from .counting import METRICS, SCOPE_DEPARTMENT, SCOPE_STAFF, SCOPE_WINDOW, SCOPES


# -- static facts from the catalog -------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    """What the catalog says of a department, window or staff member."""
    scope: str
    code: str
    name: str
    short_name: str
    hall: str | None
    department: str | None
    window: str | None
    items_listed: int     # items in the department's power list
    items_online: int     # …of those, online in the catalog (at the window's hall, for a window)


def subjects_of(catalog) -> dict[str, dict[str, Subject]]:
    """scope -> code -> Subject, from a `Catalog`. The onboarding rate is the share of the power
    list that the catalog publishes online: for a department anywhere, for a window (and its
    staff) at the window's hall; the chief representative, who has no window, the department's."""
    out: dict[str, dict[str, Subject]] = {scope: {} for scope in SCOPES}
    if catalog is None:
        return out
    items = catalog.items
    for code, dept in catalog.departments.items():
        listed = list(dict.fromkeys(dept.get("power_list", ())))
        online = sum(1 for item in listed if item in items)
        short = dept.get("short_name") or dept["name"]
        out[SCOPE_DEPARTMENT][code] = Subject(SCOPE_DEPARTMENT, code, dept["name"], short,
                                              dept.get("hall"), code, None, len(listed), online)
        chief = dept.get("chief_representative")
        if chief:
            out[SCOPE_STAFF][chief["staff_id"]] = Subject(
                SCOPE_STAFF, chief["staff_id"], chief["name"], chief["name"], dept.get("hall"),
                code, None, len(listed), online)
        for window in dept.get("windows", ()):
            hall = window.get("hall") or dept.get("hall")
            here = sum(1 for item in listed if item in items and hall in items[item]["halls"])
            out[SCOPE_WINDOW][window["code"]] = Subject(
                SCOPE_WINDOW, window["code"], window["name"], window["name"], hall, code,
                window["code"], len(listed), here)
            for person in window.get("staff", ()):
                out[SCOPE_STAFF][person["staff_id"]] = Subject(
                    SCOPE_STAFF, person["staff_id"], person["name"], person["name"], hall, code,
                    window["code"], len(listed), here)
    return out


# -- scorecards --------------------------------------------------------------------------------
def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Scorecard:
    scope: str
    subject: str
    period: str
    name: str | None = None
    short_name: str | None = None
    hall: str | None = None
    department: str | None = None
    items_listed: int = 0
    items_online: int = 0
    applications: int = 0
    applications_online: int = 0
    completed: int = 0
    completed_on_time: int = 0
    completed_early: int = 0
    working_seconds: int = 0
    cards_yellow: int = 0
    cards_red: int = 0
    orders_opened: int = 0
    orders_answered: int = 0
    orders_overdue: int = 0
    complaints: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0
    ratings_bad: int = 0
    rating_levels: int = 0
    rectifications_overdue: int = 0

    @classmethod
    def from_counters(cls, scope: str, subject: str, period: str, metrics: Mapping[str, int],
                      facts: Subject | None = None) -> "Scorecard":
        known = {m: metrics.get(m, 0) for m in METRICS}
        if facts is None:
            return cls(scope, subject, period, **known)
        return cls(scope, subject, period, facts.name, facts.short_name, facts.hall,
                   facts.department, facts.items_listed, facts.items_online, **known)

    # -- the four rates and the other indices ----------------------------------------------
    @property
    def onboarding_rate(self) -> float | None:      # 入驻率
        return _ratio(self.items_online, self.items_listed)

    @property
    def online_rate(self) -> float | None:          # 网办率
        return _ratio(self.applications_online, self.applications)

    @property
    def on_time_rate(self) -> float | None:         # 按时办结率
        return _ratio(self.completed_on_time, self.completed)

    @property
    def satisfaction_rate(self) -> float | None:    # 满意率
        return _ratio(self.ratings_satisfied, self.ratings)

    @property
    def early_completion_rate(self) -> float | None:   # 提前办结率
        return _ratio(self.completed_early, self.completed)

    @property
    def average_working_days(self) -> float | None:    # 平均办理时长（工作日）
        return _ratio(self.working_seconds, self.completed * WORKING_DAY)

    @property
    def average_rating(self) -> float | None:
        return _ratio(self.rating_levels, self.ratings)

    @property
    def open_orders(self) -> int:                      # 未办结督办单
        return max(0, self.orders_opened - self.orders_answered)

    @property
    def active(self) -> bool:
        """Anything to score: an application, a completion or a rating in the period."""
        return bool(self.applications or self.completed or self.ratings)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in SCORECARD_KEYS}


DERIVED = ("onboarding_rate", "online_rate", "on_time_rate", "satisfaction_rate",
           "early_completion_rate", "average_working_days", "average_rating", "open_orders")
COUNTS = tuple(f.name for f in fields(Scorecard) if f.type == "int")
SCORECARD_KEYS = tuple(f.name for f in fields(Scorecard)) + DERIVED   # all scalars


def total(cards: Iterable[Scorecard], scope: str, subject: str, period: str,
          name: str | None = None) -> Scorecard:
    """The sum of several scorecards' counts (e.g. a hall's, from its departments)."""
    sums = dict.fromkeys(COUNTS, 0)
    for card in cards:
        for count in COUNTS:
            sums[count] += getattr(card, count)
    return Scorecard(scope, subject, period, name, name, **sums)
