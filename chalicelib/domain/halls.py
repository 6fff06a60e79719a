"""What a hall decides for itself (its supervision policy), read once from the catalog into one
typed value, each setting with the value the rules take where the hall says nothing.

- yellow_share: a step's light turns yellow once this share of its limit is used (0.8: the
  eighth working day of ten, the practice of the seed halls);
- default_rating_days: completed cases left unrated this many working days count as 满意 (no
  default rating where the hall sets none);
- rectification, consultation and 12345 limits: working days a department has to answer; where
  the hall sets none, the kind's own limit applies (chalicelib/domain/supervised.py);
- violation_policy: thresholds of the violation rules (chalicelib/domain/violations.py);
- score_weights: the weights of the hall's performance scores;
- camera_retention_days: how long the hall's window cameras keep footage (90 days, the halls'
  practice and the streams' retention in the template): a complaint about a visit before that
  could find no footage and is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .approval import DEFAULT_YELLOW_SHARE

HOTLINE_CATEGORIES = ("enquiry", "complaint")
CAMERA_RETENTION_DAYS = 90


@dataclass(frozen=True)
class HallPolicy:
    yellow_share: float = DEFAULT_YELLOW_SHARE
    default_rating_days: int | None = None
    rectification_days: int | None = None
    consultation_days: int | None = None
    hotline_enquiry_days: int | None = None
    hotline_complaint_days: int | None = None
    violation_policy: Mapping | None = None
    score_weights: Mapping | None = None
    camera_retention_days: int = CAMERA_RETENTION_DAYS

    @classmethod
    def of(cls, hall: Mapping) -> "HallPolicy":
        def days(name):
            value = hall.get(name)
            return int(value) if value is not None else None

        return cls(yellow_share=float(hall.get("yellow_share", DEFAULT_YELLOW_SHARE)),
                   default_rating_days=days("default_rating_days"),
                   rectification_days=days("rectification_days"),
                   consultation_days=days("consultation_days"),
                   hotline_enquiry_days=days("hotline_enquiry_days"),
                   hotline_complaint_days=days("hotline_complaint_days"),
                   violation_policy=hall.get("violation_policy"),
                   score_weights=hall.get("score_weights"),
                   camera_retention_days=int(hall.get("camera_retention_days",
                                                      CAMERA_RETENTION_DAYS)))

    def hotline_days(self, category: str) -> int | None:
        """The answer limit of a 12345 request of this category (enquiry or complaint)."""
        if category not in HOTLINE_CATEGORIES:
            raise ValueError(f"no 12345 category {category!r}")
        return getattr(self, f"hotline_{category}_days")
