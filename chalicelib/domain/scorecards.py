"""Scorecards (考核指标): the rates (入驻率, 网办率, 按时办结率, 提前办结率, 环节按时办结率,
满意率, 非常满意率, 12345办结率) and the other indices of one department, window or staff member
in one period, read from its counters and what the catalog says of it. Every published figure is
defined once, in FIGURES, with its numerator and denominator in words: the docs' table
(`rates_table`) and the board's 说明 are read from it. A rate without a denominator has no value
(None), never 100%; a figure from fewer cases than the hall's minimum sample is published as
样本不足 (`Scorecard.to_dict(min_sample)`). Plain rules, no I/O."""
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
    items_listed: int     # powers in the department's power list (at the window's hall)
    items_online: int     # …of those, offered online (at the window's hall, for a window)


def _powers(catalog) -> dict[str, list[tuple[tuple[str, ...], str | None]]]:
    """department -> [(halls listing the power, the item offering it online or None)]: the
    catalog's power list, or, without one, each department's items as powers everywhere."""
    out: dict[str, list] = {code: [] for code in catalog.departments}
    powers = getattr(catalog, "powers", None)
    if powers:
        for power in powers.values():
            out.setdefault(power["department"], []).append(
                (tuple(power["halls"]), power.get("item")))
        return out
    for code, dept in catalog.departments.items():
        out[code] = [(None, item) for item in dict.fromkeys(dept.get("power_list", ()))]
    return out


def _onboarding(powers: list, items: Mapping, hall: str | None = None) -> tuple[int, int]:
    """(powers listed, of those offered online): for a hall, the powers its list holds and an
    item offered at that hall; anywhere, every power and an item of the guide."""
    listed = online = 0
    for halls, item in powers:
        if hall is not None and halls is not None and hall not in halls:
            continue
        listed += 1
        online += item is not None and item in items and (
            hall is None or hall in items[item]["halls"])
    return listed, online


def subjects_of(catalog) -> dict[str, dict[str, Subject]]:
    """scope -> code -> Subject, from a `Catalog`. The onboarding rate is the share of the power
    list (权力清单) offered online (a power whose item the guide publishes; a power without one
    counts against): for a department anywhere, for a window (and its staff) the powers listed
    at the window's hall and offered there; the chief representative, who has no window, the
    department's."""
    out: dict[str, dict[str, Subject]] = {scope: {} for scope in SCOPES}
    if catalog is None:
        return out
    items = catalog.items
    powers = _powers(catalog)
    for code, dept in catalog.departments.items():
        listed, online = _onboarding(powers[code], items)
        short = dept.get("short_name") or dept["name"]
        out[SCOPE_DEPARTMENT][code] = Subject(SCOPE_DEPARTMENT, code, dept["name"], short,
                                              dept.get("hall"), code, None, listed, online)
        chief = dept.get("chief_representative")
        if chief:
            out[SCOPE_STAFF][chief["staff_id"]] = Subject(
                SCOPE_STAFF, chief["staff_id"], chief["name"], chief["name"], dept.get("hall"),
                code, None, listed, online)
        for window in dept.get("windows", ()):
            hall = window.get("hall") or dept.get("hall")
            here_listed, here = _onboarding(powers[code], items, hall)
            out[SCOPE_WINDOW][window["code"]] = Subject(
                SCOPE_WINDOW, window["code"], window["name"], window["name"], hall, code,
                window["code"], here_listed, here)
            for person in window.get("staff", ()):
                out[SCOPE_STAFF][person["staff_id"]] = Subject(
                    SCOPE_STAFF, person["staff_id"], person["name"], person["name"], hall, code,
                    window["code"], here_listed, here)
    return out


# -- the published figures, each defined once ---------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One published figure (a rate or an average): what it divides by what, in words for the
    docs (English) and for the board's 说明 (Chinese), what one unit of its sample is (a case, a
    department's step, a rating, a power, a 12345 request) and whether a figure from fewer units
    than the hall's minimum sample is withheld as 样本不足 (every figure but the onboarding
    rate, a property of the catalog rather than a sample of cases)."""
    key: str
    name: str
    numerator: str                  # the Scorecard count divided…
    denominator: str                # …by this one
    per: str                        # what one unit of the denominator is
    unit: str                       # its Chinese measure word (件, 个, 条, 项)
    numerator_en: str
    denominator_en: str
    numerator_zh: str
    denominator_zh: str
    sampled: bool = True
    scale: float = 1.0              # the denominator's unit (a working day for an average)
    percent: bool = True

    def value(self, card: "Scorecard") -> float | None:
        whole = getattr(card, self.denominator)
        return getattr(card, self.numerator) / (whole * self.scale) if whole else None

    def sample(self, card: "Scorecard") -> int:
        return getattr(card, self.denominator)

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "per": self.per,
                "numerator": self.numerator_zh, "denominator": self.denominator_zh,
                "sampled": self.sampled, "percent": self.percent}


CASE, STEP, RATING, POWER, REQUEST, APPLICATION = ("case", "step", "rating", "power",
                                                   "hotline_request", "application")
FIGURES = (
    Figure("onboarding_rate", "入驻率", "items_online", "items_listed", POWER, "项",
           "powers of the power list (权力清单) offered online: a published item of the guide "
           "(for a window: at its hall)",
           "powers on the power list; a power without an online item counts against",
           "权力清单中已在网上办事大厅开通网上办理的事项数（窗口：在本大厅开通）",
           "权力清单中的事项总数（未开通网上办理的事项计入分母）", sampled=False),
    Figure("online_rate", "网办率", "applications_online", "applications", APPLICATION, "件",
           "cases applied for online or through an agent point",
           "cases applied for, walk-ins included",
           "网上申报（含代办点代为网上申报）的办件数", "全部申报的办件数（含窗口申报）"),
    Figure("on_time_rate", "按时办结率", "completed_on_time", "completed", CASE, "件",
           "cases completed within the promised limit (pauses and extensions counted), "
           "counted once, at the lead department",
           "cases completed, counted once, at the lead department",
           "在承诺时限内（扣除暂停、计入延期）办结的办件数，每件只在牵头部门计一次",
           "办结的办件数，每件只在牵头部门计一次"),
    Figure("early_completion_rate", "提前办结率", "completed_early", "completed", CASE, "件",
           "cases completed a whole working day or more before the promised deadline",
           "cases completed, counted once, at the lead department",
           "在承诺时限届满前一个工作日以上办结的办件数", "办结的办件数，每件只在牵头部门计一次"),
    Figure("step_on_time_rate", "环节按时办结率", "steps_on_time", "steps_completed", STEP,
           "个",
           "departments' steps of completed cases decided within their own limit (the lead "
           "department's on the whole case's promised limit)",
           "departments' steps of completed cases: one per department that took part",
           "各部门在本环节时限内办结的环节数（牵头部门按整件承诺时限）",
           "办结办件中各部门办理的环节数，参与办理的每个部门计一个"),
    Figure("satisfaction_rate", "满意率", "ratings_satisfied", "ratings", RATING, "条",
           "ratings of 基本满意 or better (the last rating of each case)",
           "ratings, one per case",
           "评价为“基本满意”及以上的评价数（每件以最后一次评价为准）", "评价数（一件一评）"),
    Figure("very_satisfied_rate", "非常满意率", "ratings_very_satisfied", "ratings", RATING, "条",
           "ratings of 非常满意", "ratings, one per case",
           "评价为“非常满意”的评价数", "评价数（一件一评）"),
    Figure("hotline_answer_rate", "12345办结率", "hotline_answered", "hotline_requests",
           REQUEST, "件",
           "12345 requests (enquiries and complaints) received in the period and answered since",
           "12345 requests received in the period",
           "本期收到并已答复的12345咨询件、投诉件数", "本期收到的12345咨询件、投诉件数"),
    Figure("average_working_days", "平均办理时长", "working_seconds", "completed", CASE, "件",
           "working time the completed cases used, pauses excluded, in working days",
           "cases completed, counted once, at the lead department",
           "办结办件所用的工作时间之和（扣除暂停，按工作日计）",
           "办结的办件数，每件只在牵头部门计一次", scale=WORKING_DAY, percent=False),
    Figure("average_rating", "平均评价等级", "rating_levels", "ratings", RATING, "条",
           "the levels of the ratings, summed (5 非常满意 … 1 非常不满意)", "ratings, one per case",
           "各评价等级之和（非常满意 5 分至非常不满意 1 分）", "评价数（一件一评）",
           percent=False),
)
FIGURE_BY_KEY = {figure.key: figure for figure in FIGURES}
INSUFFICIENT = "样本不足"


def insufficient(figure_name: str, sample: int, unit: str, min_sample: int) -> str:
    """The reason a figure is withheld, as published: 样本不足 with the sample and the minimum."""
    return f"{INSUFFICIENT}：{figure_name}仅有 {sample} {unit}，不足 {min_sample} {unit}，不予计分"


def rates_table() -> str:
    """The rates' table of docs/domain.md, from the definitions (a test keeps them equal)."""
    lines = ["| figure | 名称 | per | numerator | denominator |", "|---|---|---|---|---|"]
    lines += [f"| `{f.key}` | {f.name} | {f.per.replace('_', ' ')} | {f.numerator_en} | "
              f"{f.denominator_en} |" for f in FIGURES]
    return "\n".join(lines)


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
    steps_completed: int = 0
    steps_on_time: int = 0
    cards_yellow: int = 0
    cards_red: int = 0
    orders_opened: int = 0
    orders_answered: int = 0
    orders_overdue: int = 0
    complaints: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0
    ratings_very_satisfied: int = 0
    ratings_bad: int = 0
    rating_levels: int = 0
    rectifications_overdue: int = 0
    hotline_requests: int = 0
    hotline_answered: int = 0
    hotline_reprimands: int = 0

    @classmethod
    def from_counters(cls, scope: str, subject: str, period: str, metrics: Mapping[str, int],
                      facts: Subject | None = None) -> "Scorecard":
        known = {m: metrics.get(m, 0) for m in METRICS}
        if facts is None:
            return cls(scope, subject, period, **known)
        return cls(scope, subject, period, facts.name, facts.short_name, facts.hall,
                   facts.department, facts.items_listed, facts.items_online, **known)

    # -- the rates and averages, as FIGURES defines them -----------------------------------
    onboarding_rate = property(FIGURE_BY_KEY["onboarding_rate"].value)            # 入驻率
    online_rate = property(FIGURE_BY_KEY["online_rate"].value)                    # 网办率
    on_time_rate = property(FIGURE_BY_KEY["on_time_rate"].value)                  # 按时办结率
    early_completion_rate = property(FIGURE_BY_KEY["early_completion_rate"].value)  # 提前办结率
    step_on_time_rate = property(FIGURE_BY_KEY["step_on_time_rate"].value)        # 环节按时办结率
    satisfaction_rate = property(FIGURE_BY_KEY["satisfaction_rate"].value)        # 满意率
    very_satisfied_rate = property(FIGURE_BY_KEY["very_satisfied_rate"].value)    # 非常满意率
    hotline_answer_rate = property(FIGURE_BY_KEY["hotline_answer_rate"].value)    # 12345办结率
    average_working_days = property(FIGURE_BY_KEY["average_working_days"].value)  # 平均办理时长
    average_rating = property(FIGURE_BY_KEY["average_rating"].value)

    @property
    def open_orders(self) -> int:                      # 未办结督办单
        return max(0, self.orders_opened - self.orders_answered)

    @property
    def cases(self) -> int:
        """The cases the subject handled in the period, the composite score's sample: the
        largest of its applications, its cases completed and its steps completed."""
        return max(self.applications, self.completed, self.steps_completed)

    @property
    def active(self) -> bool:
        """Anything to score: an application, a completion, a step or a rating in the period."""
        return bool(self.applications or self.completed or self.steps_completed or self.ratings)

    def withheld(self, min_sample: int) -> dict[str, str]:
        """figure -> why it is not published: each sampled figure whose denominator counts
        fewer than `min_sample` units (none when it counts none: the figure is null anyway)."""
        out = {}
        for figure in FIGURES:
            sample = figure.sample(self)
            if figure.sampled and 0 < sample < min_sample:
                out[figure.key] = insufficient(figure.name, sample, figure.unit, min_sample)
        return out

    def to_dict(self, min_sample: int = 0) -> dict:
        """Every count and figure; with `min_sample`, a figure from fewer units is published
        as null, its reason under `insufficient`."""
        out = {name: getattr(self, name) for name in SCORECARD_KEYS}
        notes = self.withheld(min_sample)
        for key in notes:
            out[key] = None
        out["insufficient"] = notes
        return out


DERIVED = tuple(f.key for f in FIGURES) + ("open_orders",)
COUNTS = tuple(f.name for f in fields(Scorecard) if f.type == "int")
SCORECARD_KEYS = tuple(f.name for f in fields(Scorecard)) + DERIVED   # all scalars


def total(cards: Iterable[Scorecard], scope: str, subject: str, period: str,
          name: str | None = None) -> Scorecard:
    """The sum of several scorecards' counts (e.g. a hall's, from its departments): cases
    are counted once each (at their lead department), so the sum is per case."""
    sums = dict.fromkeys(COUNTS, 0)
    for card in cards:
        for count in COUNTS:
            sums[count] += getattr(card, count)
    return Scorecard(scope, subject, period, name, name, **sums)
