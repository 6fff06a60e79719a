"""What a hall configures for electronic supervision (电子监察): the severity of each rule (yellow
or red card), the least working time in which an item of each power category is believably
handled in the system, office hours if it keeps them, and the phrases that state no reason at
all. The defaults are the starting points a hall tunes to its own records."""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import time
from typing import Mapping

from ..catalog import POWER_CATEGORIES
from ..errors import InvalidInput
from .findings import RED, SEVERITIES, TITLES, YELLOW

_NOT_TEXT = re.compile(r"[\W_]+")                       # punctuation and spaces, any script


@dataclass(frozen=True)
class Fastest:
    """The least working time in which an item of one power category is believably handled in
    the system: from acceptance to completion, and for one deciding step."""
    case_minutes: float
    step_minutes: float

    def to_dict(self) -> dict:
        return asdict(self)


# Red for what wrongs the applicant or the law outright; yellow for what slips inside a case
# that still reaches the applicant lawfully (a step late while the whole is on time, acceptance
# late when the statute already counts the application as accepted, a second notice).
DEFAULT_SEVERITY: Mapping[str, str] = {
    "refused_without_valid_reason": RED,     # the applicant is shut out of the procedure
    "exceeded_promised_limit": RED,          # Nanjing: red one second after the deadline
    "step_over_its_limit": YELLOW,           # the whole is still in time
    "pre_review_late": YELLOW,               # art. 32 counts it as accepted on receipt anyway
    "decided_without_reasons": RED,          # art. 38: without reasons there is nothing to appeal
    "off_system_handling": RED,              # what happens outside cannot be supervised
    "fee_above_standard": RED,               # money taken without a legal basis
    "not_one_time_notice": YELLOW,           # costs the applicant another round, the case goes on
    "outside_power_list": RED,               # art. 71: no licence may be invented
}

# Starting points a hall tunes to its own records: licences get the longest (several sections
# read the file), filings and public services the shortest. Harbin Songbei's ten-minute
# city-district review is a 审核转报 step and stays above its floor. Working minutes, so the
# compressed demo clock scales with them.
DEFAULT_FASTEST: Mapping[str, Fastest] = {
    "行政许可": Fastest(case_minutes=60, step_minutes=15),
    "行政确认": Fastest(case_minutes=30, step_minutes=10),
    "行政给付": Fastest(case_minutes=30, step_minutes=10),
    "审核转报": Fastest(case_minutes=30, step_minutes=5),
    "行政备案": Fastest(case_minutes=10, step_minutes=2),
    "公共服务": Fastest(case_minutes=10, step_minutes=2),
}

# Phrases that state no reason at all. A refusal whose reasons are nothing but these (spaces and
# punctuation aside) is boilerplate; one naming what is wrong keeps something once they are gone.
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    "经审查", "经审核", "经研究", "您的申请", "你的申请", "该申请", "申请",
    "材料不全", "材料不齐全", "材料不齐", "资料不全", "资料不齐", "材料有误",
    "不符合受理条件", "不符合相关规定", "不符合有关规定", "不符合条件", "不符合要求",
    "不符合规定", "条件不符", "不予受理", "不予办理", "暂不受理", "其他原因", "其他", "其它",
    "详见附件", "见附件", "另行通知", "因", "故", "无")


@dataclass(frozen=True)
class Policy:
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    fastest: Mapping[str, Fastest] = field(default_factory=lambda: dict(DEFAULT_FASTEST))
    # 即办件 are decided on the spot: speed is their point, so they are exempt unless set.
    fastest_immediate: Fastest | None = None
    # Where set (China time, start inclusive, end exclusive), a decision entered outside these
    # hours or on a day the hall is closed is a sign of work done elsewhere and typed in later.
    # Off by default: online staff may work late, and the demo clock has no hours.
    office_hours: tuple[time, time] | None = None
    boilerplate_reasons: tuple[str, ...] = DEFAULT_BOILERPLATE

    def severity_of(self, rule: str) -> str:
        return self.severity.get(rule, DEFAULT_SEVERITY[rule])

    def fastest_for(self, item: dict) -> Fastest | None:
        if item.get("kind") == "immediate":
            return self.fastest_immediate
        return self.fastest.get(item.get("category"))

    def is_boilerplate(self, reasons: str) -> bool:
        text = _NOT_TEXT.sub("", reasons)
        for phrase in sorted((_NOT_TEXT.sub("", p) for p in self.boilerplate_reasons),
                             key=len, reverse=True):
            if phrase:
                text = text.replace(phrase, "")
        return not text

    @classmethod
    def from_dict(cls, data: dict | None) -> "Policy":
        """A hall's settings over the defaults, e.g. {"severity": {"not_one_time_notice": "red"},
        "fastest": {"行政许可": {"case_minutes": 120, "step_minutes": 30}, "公共服务": null},
        "fastest_immediate": {...} | null, "office_hours": ["08:00", "18:00"] | null,
        "boilerplate_reasons": [...]}. A category set to null is not checked for speed."""
        data = data or {}
        if not isinstance(data, dict):
            raise InvalidInput("a supervision policy is an object", field="policy")
        unknown = set(data) - {"severity", "fastest", "fastest_immediate", "office_hours",
                               "boilerplate_reasons"}
        if unknown:
            raise InvalidInput(f"unknown policy settings: {', '.join(sorted(unknown))}",
                               field="policy")
        severity = dict(DEFAULT_SEVERITY)
        for rule, level in _mapping(data, "severity").items():
            if rule not in TITLES:
                raise InvalidInput(f"no rule {rule!r}; the rules are {', '.join(TITLES)}",
                                   field="policy.severity")
            if level not in SEVERITIES:
                raise InvalidInput(f"severity of {rule} must be yellow or red, not {level!r}",
                                   field=f"policy.severity.{rule}")
            severity[rule] = level
        fastest = dict(DEFAULT_FASTEST)
        for category, limits in _mapping(data, "fastest").items():
            if category not in POWER_CATEGORIES:
                raise InvalidInput(f"no power category {category!r}; they are "
                                   f"{', '.join(POWER_CATEGORIES)}", field="policy.fastest")
            if limits is None:
                fastest.pop(category, None)
            else:
                fastest[category] = _fastest(limits, f"policy.fastest.{category}")
        immediate = data.get("fastest_immediate")
        hours = data.get("office_hours")
        return cls(severity=severity, fastest=fastest,
                   fastest_immediate=None if immediate is None
                   else _fastest(immediate, "policy.fastest_immediate"),
                   office_hours=None if hours is None else _hours(hours),
                   boilerplate_reasons=_phrases(data["boilerplate_reasons"])
                   if "boilerplate_reasons" in data else DEFAULT_BOILERPLATE)

    def to_dict(self) -> dict:
        return {"severity": dict(self.severity),
                "fastest": {c: f.to_dict() for c, f in self.fastest.items()},
                "fastest_immediate": self.fastest_immediate.to_dict()
                if self.fastest_immediate else None,
                "office_hours": [f"{t:%H:%M}" for t in self.office_hours]
                if self.office_hours else None,
                "boilerplate_reasons": list(self.boilerplate_reasons)}


def _mapping(data: dict, name: str) -> dict:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} is an object", field=f"policy.{name}")
    return value


def _fastest(data: object, where: str) -> Fastest:
    if not isinstance(data, dict):
        raise InvalidInput("give case_minutes and step_minutes", field=where)
    values = []
    for name in ("case_minutes", "step_minutes"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{name} must be a non-negative number of working minutes",
                               field=f"{where}.{name}")
        values.append(float(value))
    return Fastest(*values)


def _hours(data: object) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(t) for t in data)    # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidInput('office_hours must be two times such as ["08:00", "18:00"]',
                           field="policy.office_hours")
    if not start < end:
        raise InvalidInput("office hours must end after they start", field="policy.office_hours")
    return start, end


def _phrases(data: object) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(p, str) and p.strip() for p in data):
        raise InvalidInput("boilerplate_reasons must be a list of phrases",
                           field="policy.boilerplate_reasons")
    return tuple(data)


DEFAULT_POLICY = Policy()
