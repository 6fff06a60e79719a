"""Electronic supervision beyond the case workflow's own lights, one module per subdomain, each
supervisor over their own hall and the halls below it:

- scope.py: which halls a supervision office sees;
- work.py: supervised work (督办单 and every other task), its workflow and its reads;
- complaints.py: complaints with camera evidence, visitors' codes, footage;
- ratings.py: 好差评, default ratings, rectifications, appeals;
- hotline.py: 12345 requests and online consultations;
- violations.py: violations found by rule, and the cards supervisors read.

They share one SupervisedWork (the tasks they open) and talk to the rest through events."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from ...domain import events
from ...domain.catalog import Catalog
from ...domain.footage import LONGEST_PULL
from ...domain.clock import WorkingClock
from ..bus import Bus
from .complaints import Complaints
from .hotline import Hotline
from .ratings import Ratings
from .scope import Scope
from .violations import Violations
from .work import SupervisedWork

__all__ = ["Supervision", "Scope", "SupervisedWork", "Complaints", "Ratings", "Hotline",
           "Violations"]


class Supervision:
    """The supervision subdomains, built together over the same adapters."""

    def __init__(self, catalog: Catalog, cases, tasks, log, engine, notifier, cameras,
                 evidence, faqs, clock: WorkingClock, now: Callable[[], datetime],
                 events_bus: Bus | None = None, idempotency=None, verifications=None,
                 longest_pull: timedelta = LONGEST_PULL):
        self.events = events_bus if events_bus is not None else Bus()
        self.scope = Scope(catalog, cases, tasks)
        self.work = SupervisedWork(catalog, cases, tasks, log, engine, notifier, clock, now,
                                   self.scope, self.events, idempotency)
        self.complaints = Complaints(self.work, cameras, evidence, verifications,
                                     longest_pull)
        self.ratings = Ratings(self.work)
        self.hotline = Hotline(self.work, faqs)
        self.violations = Violations(self.work)
        self.faqs = faqs

    def subscribe(self, bus: Bus) -> None:
        """What supervision does when something happens elsewhere (bootstrap calls this once)."""
        bus.subscribe(events.TaskAnswered, self.ratings.on_task_answered)
        bus.subscribe(events.TaskAnswered, self.hotline.on_task_answered)
        bus.subscribe(events.BranchDecided, self.violations.on_case_changed)
        bus.subscribe(events.StageDecided, self.violations.on_case_changed)
