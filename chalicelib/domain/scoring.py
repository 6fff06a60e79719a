"""Performance scores (绩效考核): a composite score with weights configured per hall, rankings
of departments, windows and staff per day, month and quarter, the red-flag window (红旗窗口) of
each quarter and each staff member's efficiency archive (效能档案). Plain rules, no I/O.

The composite score (0–100) of a subject in a period:

    base      = 100 x sum(w_k x r_k) / sum(w_k), over the rates r_k that are published
                (onboarding, online, on-time per case, satisfaction, early completion, 12345
                answers, and the step on-time and 非常满意 rates where a hall weighs them; a rate
                without a denominator or withheld as 样本不足 is left out and the weights of the
                others renormalised, never counted as 100%)
    deduction = yellow_card x yellow cards + red_card x red cards + open_order x open
                supervision orders + overdue_order x orders escalated at their deadline +
                complaint x complaints + overdue_rectification x rectifications overdue +
                hotline_reprimand x 12345 reprimands (通报批评)
    composite = min(100, max(0, base - deduction)), rounded to 4 decimals

A subject with no application, completion or rating in the period has no composite (None): the
onboarding rate alone, a property of the catalog, does not rank anyone; nor has a subject that
handled fewer cases than the hall's `min_sample` (样本不足, `Scorecard.cases`). Ranking orders
by composite (higher first), then by cases completed (more first), then by applications, then by
subject code; subjects without a composite, or with fewer cases (applications + completions)
than the hall's `min_cases_ranked`, come last, unranked.

Compiling a period (`compile_period`) reads one counter set per subject (`counters.Counters`)
and never a case, so its cost grows with departments x periods, not with the number of cases."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields

from .counters import Counters
from .counting import (APPLICATIONS, CARDS_RED, CARDS_YELLOW, COMPLAINTS, COMPLETED,
                       COMPLETED_EARLY, COMPLETED_ON_TIME, ORDERS_OPENED, ORDERS_OVERDUE, RATINGS,
                       RATINGS_BAD, RATINGS_SATISFIED, RECTIFICATIONS_OVERDUE, SCOPE_DEPARTMENT,
                       SCOPE_STAFF, SCOPE_WINDOW, SCOPES, STEPS_COMPLETED, STEPS_ON_TIME)
from .errors import InvalidInput
from .periods import MONTH, QUARTER, period_kind
from .scorecards import Scorecard, insufficient, subjects_of, total

# -- weights -----------------------------------------------------------------------------------
RATE_WEIGHTS = {"onboarding": "onboarding_rate", "online": "online_rate",
                "on_time": "on_time_rate", "satisfaction": "satisfaction_rate",
                "early_completion": "early_completion_rate", "hotline": "hotline_answer_rate",
                "step_on_time": "step_on_time_rate", "very_satisfied": "very_satisfied_rate"}
DEDUCTIONS = {"yellow_card": "cards_yellow", "red_card": "cards_red", "open_order": "open_orders",
              "overdue_order": "orders_overdue", "complaint": "complaints",
              "overdue_rectification": "rectifications_overdue",
              "hotline_reprimand": "hotline_reprimands"}


@dataclass(frozen=True)
class Weights:
    """A hall's scoring rules: rate weights (relative; renormalised over the rates a subject
    has), points deducted per card, open order, overdue order, complaint, overdue rectification
    and 12345 reprimand, the completed cases a window needs in the quarter to be the red-flag
    window, the cases (applications + completions) a subject needs in a period to be ranked at
    all, and the minimum sample: a figure from fewer cases (ratings, steps, requests) is
    published as 样本不足, not as a score."""
    onboarding: float = 10.0
    online: float = 20.0
    on_time: float = 30.0
    satisfaction: float = 30.0
    early_completion: float = 10.0
    hotline: float = 10.0
    step_on_time: float = 0.0
    very_satisfied: float = 0.0
    yellow_card: float = 1.0
    red_card: float = 5.0
    open_order: float = 2.0
    overdue_order: float = 3.0
    complaint: float = 3.0
    overdue_rectification: float = 2.0
    hotline_reprimand: float = 5.0
    red_flag_min_completed: int = 30
    min_cases_ranked: int = 1
    min_sample: int = 5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"weight {f.name} must be a number ≥ 0, not {value!r}",
                                   field=f.name)
        for name in ("red_flag_min_completed", "min_cases_ranked", "min_sample"):
            if not isinstance(getattr(self, name), int):
                raise InvalidInput(f"{name} is a whole number of cases", field=name)
        if not any(getattr(self, name) > 0 for name in RATE_WEIGHTS):
            raise InvalidInput("at least one rate needs a weight above 0", field="weights")

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "Weights":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown weights {', '.join(unknown)}; known: "
                               f"{', '.join(sorted(known))}", field=unknown[0])
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    def for_hall(self, hall: str | None) -> "Weights":
        return self


class HallWeights:
    """Weights configured per hall; a hall without its own takes its parent's (a district the
    city's), and a hall without any configured up the line the defaults."""

    def __init__(self, configured: Mapping[str, Weights | Mapping],
                 parents: Mapping[str, str | None] | None = None,
                 default: Weights | None = None):
        self.configured = {hall: w if isinstance(w, Weights) else Weights.from_dict(w)
                           for hall, w in configured.items()}
        self.parents = dict(parents or {})
        self.default = default or Weights()

    @classmethod
    def from_config(cls, configured: Mapping[str, Weights | Mapping], catalog=None,
                    default: Weights | None = None) -> "HallWeights":
        parents = {code: hall.get("parent") for code, hall in catalog.halls.items()} \
            if catalog is not None else {}
        return cls(configured, parents, default)

    def for_hall(self, hall: str | None) -> Weights:
        seen = set()
        while hall is not None and hall not in seen:
            if hall in self.configured:
                return self.configured[hall]
            seen.add(hall)
            hall = self.parents.get(hall)
        return self.default


def _resolver(weights, catalog=None):
    if isinstance(weights, (Weights, HallWeights)):
        return weights
    if weights is None:
        return Weights()
    if isinstance(weights, Mapping):
        return HallWeights.from_config(weights, catalog)
    raise InvalidInput("weights are a Weights, a HallWeights or {hall: weights}", field="weights")


# -- composite, ranking, red-flag window -------------------------------------------------------
def composite_withheld(card: Scorecard, weights: Weights) -> str | None:
    """Why a subject with something to score has no composite: too few cases (样本不足)."""
    if card.active and card.cases < weights.min_sample:
        return insufficient("综合得分", card.cases, "件", weights.min_sample)
    return None


def composite(card: Scorecard, weights: Weights) -> float | None:
    """The composite score, 0–100 (see the module's doc); None with nothing to score or from
    fewer cases than the hall's minimum sample."""
    if not card.active or card.cases < weights.min_sample:
        return None
    withheld = card.withheld(weights.min_sample)
    weighed = total_weight = 0.0
    for name, rate_name in RATE_WEIGHTS.items():
        rate, weight = getattr(card, rate_name), getattr(weights, name)
        if rate is not None and weight > 0 and rate_name not in withheld:
            weighed += weight * rate
            total_weight += weight
    if total_weight == 0:
        return None
    deduction = sum(getattr(weights, name) * getattr(card, count)
                    for name, count in DEDUCTIONS.items())
    return round(min(100.0, max(0.0, 100.0 * weighed / total_weight - deduction)), 4)


@dataclass(frozen=True)
class Ranked:
    rank: int | None        # None: unranked (nothing to score, or too few cases)
    composite: float | None
    scorecard: Scorecard
    min_sample: int = 0     # figures from fewer cases are published as 样本不足
    withheld: str | None = None   # why the composite is not published

    def to_dict(self) -> dict:
        out = {"rank": self.rank, "composite": self.composite,
               **self.scorecard.to_dict(self.min_sample)}
        if self.withheld:
            out["insufficient"] = {**out["insufficient"], "composite": self.withheld}
        return out


def _scored(card: Scorecard, weights: Weights) -> tuple[tuple, Ranked]:
    score = composite(card, weights)
    ranked = score is not None and card.applications + card.completed >= weights.min_cases_ranked
    key = (not ranked, -(score or 0.0), -card.completed, -card.applications, card.scope,
           card.subject)
    return key, Ranked(0 if ranked else None, score, card, weights.min_sample,
                       composite_withheld(card, weights))


def rank(scorecards: Iterable[Scorecard], weights) -> list[Ranked]:
    """Best first: composite, then more cases completed, then more applications, then code.
    Each subject is scored with its hall's weights (`weights` a Weights or a HallWeights).
    A subject with no composite, or fewer cases (applications + completions) than its hall's
    `min_cases_ranked`, is listed after the ranked ones, with rank None."""
    weights = _resolver(weights)
    scored = sorted((_scored(card, weights.for_hall(card.hall)) for card in scorecards),
                    key=lambda pair: pair[0])
    out, place = [], 0
    for _, entry in scored:
        if entry.rank is not None:
            place += 1
            entry = Ranked(place, entry.composite, entry.scorecard, entry.min_sample,
                           entry.withheld)
        out.append(entry)
    return out


def red_flag_window(window_scorecards_of_quarter: Iterable[Scorecard], weights) -> Ranked | None:
    """The quarter's red-flag window (红旗窗口), chosen by the data alone: the best ranked window
    with at least `red_flag_min_completed` cases completed and no red card (each window read
    with its hall's weights). None if none qualifies."""
    weights = _resolver(weights)
    cards = list(window_scorecards_of_quarter)
    for card in cards:
        if card.scope != SCOPE_WINDOW or period_kind(card.period) != QUARTER:
            raise InvalidInput(f"the red-flag window is chosen among windows' quarters, not "
                               f"{card.scope} {card.period}", field="period")
    if len({card.period for card in cards}) > 1:
        raise InvalidInput("the red-flag window is chosen within one quarter", field="period")
    eligible = [card for card in cards if card.cards_red == 0
                and card.completed >= weights.for_hall(card.hall).red_flag_min_completed]
    ranked = [entry for entry in rank(eligible, weights) if entry.rank is not None]
    return ranked[0] if ranked else None


# -- efficiency archive ------------------------------------------------------------------------
ARCHIVE_COUNTS = (APPLICATIONS, COMPLETED, COMPLETED_ON_TIME, COMPLETED_EARLY, STEPS_COMPLETED,
                  STEPS_ON_TIME, CARDS_YELLOW, CARDS_RED, ORDERS_OPENED, ORDERS_OVERDUE,
                  COMPLAINTS, RATINGS, RATINGS_SATISFIED, RATINGS_BAD, RECTIFICATIONS_OVERDUE)


def _archive_line(card: Scorecard) -> dict:
    out = {count: getattr(card, count) for count in ARCHIVE_COUNTS}
    out.update(open_orders=card.open_orders, average_working_days=card.average_working_days,
               on_time_rate=card.on_time_rate, step_on_time_rate=card.step_on_time_rate,
               satisfaction_rate=card.satisfaction_rate,
               average_rating=card.average_rating)
    return out


def efficiency_archive(staff_id: str, counters: Counters, catalog=None) -> dict:
    """A staff member's efficiency archive (效能档案): month by month and in all, the cases
    completed and their average working days, cards, orders, complaints and ratings."""
    facts = subjects_of(catalog)[SCOPE_STAFF].get(staff_id)
    months = [p for p in counters.periods(SCOPE_STAFF, staff_id) if period_kind(p) == MONTH]
    cards = [Scorecard.from_counters(SCOPE_STAFF, staff_id, month,
                                     counters.metrics(SCOPE_STAFF, staff_id, month), facts)
             for month in months]
    return {"staff_id": staff_id,
            "name": facts.name if facts else None,
            "department": facts.department if facts else None,
            "window": facts.window if facts else None,
            "months": [{"month": card.period, **_archive_line(card)} for card in cards],
            "total": _archive_line(total(cards, SCOPE_STAFF, staff_id, "all"))}


# -- compiling a period ------------------------------------------------------------------------
RANKING_KEYS = {SCOPE_DEPARTMENT: "departments", SCOPE_WINDOW: "windows", SCOPE_STAFF: "staff"}


def compile_period(counters: Counters, catalog, period: str, weights=None,
                   hall: str | None = None) -> dict:
    """Rankings of departments, windows and staff for one period (a day, month or quarter),
    with the totals of the departments and, for a quarter, each hall's red-flag window.
    `weights`: a Weights, a HallWeights or {hall code: weights dict}. `hall` keeps the subjects
    of one hall only. Reads one counter item per subject: no case is read."""
    kind = period_kind(period)
    weights = _resolver(weights, catalog)
    facts = subjects_of(catalog)
    out: dict = {"period": period, "kind": kind, "hall": hall,
                 "hall_name": catalog.halls[hall]["name"]
                 if hall and catalog is not None and hall in catalog.halls else None}
    cards_by_scope: dict[str, list[Scorecard]] = {}
    for scope in SCOPES:
        known = facts[scope]
        codes = list(dict.fromkeys([*known, *counters.subjects(scope, period)]))
        cards = [Scorecard.from_counters(scope, code, period,
                                         counters.metrics(scope, code, period), known.get(code))
                 for code in codes]
        if hall is not None:
            cards = [card for card in cards if card.hall == hall]
        cards_by_scope[scope] = cards
        out[RANKING_KEYS[scope]] = [entry.to_dict() for entry in rank(cards, weights)]
    totals = total(cards_by_scope[SCOPE_DEPARTMENT], "hall", hall or "all", period,
                   out["hall_name"])
    min_sample = weights.for_hall(hall).min_sample
    out["min_sample"] = min_sample
    out["totals"] = totals.to_dict(min_sample)
    out["red_flag_windows"] = {}
    if kind == QUARTER:
        by_hall: dict[str, list[Scorecard]] = {}
        for card in cards_by_scope[SCOPE_WINDOW]:
            if card.hall is not None:   # a window the catalog no longer lists competes nowhere
                by_hall.setdefault(card.hall, []).append(card)
        for window_hall, cards in sorted(by_hall.items()):
            best = red_flag_window(cards, weights)
            if best is not None:
                out["red_flag_windows"][window_hall] = best.to_dict()
    out["subjects"] = sum(len(cards) for cards in cards_by_scope.values())
    return out
