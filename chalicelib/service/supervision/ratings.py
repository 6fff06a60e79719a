"""Ratings (好差评) as the service runs them: the applicant's rating, the daily default rating,
the rectification a 差评 opens and the re-rating its report allows, and the appeal of a
malicious 差评. The rules themselves are chalicelib/domain/ratings.py."""
from __future__ import annotations

from datetime import datetime

from ...domain import events
from ...domain import ratings as rules
from ...domain.cases import Caller, Case
from ...domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..intake import record_change, retrying
from .work import SYSTEM, SupervisedWork, text_of


class Ratings:
    def __init__(self, work_: SupervisedWork):
        self.work = work_

    @property
    def now(self):
        return self.work.now

    def rate(self, caller: Caller, case_id: str, body: dict) -> dict:
        """一事一评: the applicant rates a completed case once; a 差评 opens a rectification;
        after the rectification is reported the applicant may rate again."""
        level, dimensions, comment = rules.rating_of(body)

        def change():
            case = self.work.case(case_id)
            if case.applicant.get("id_number") != caller.id_number:
                # As for reading it: someone else's case is not there for this caller.
                raise NotFound(f"no case {case_id!r}", field="case_id")
            if case.status not in ("completed", "refused"):
                raise Conflict(f"case {case.case_no or case_id} is not completed yet",
                               field="case_id")
            earlier = getattr(case, "rating", None) or {}
            now = self.now()
            case.rating = rules.rate(earlier, level, dimensions, comment, now)
            self.work.cases.update(case, record_change(case, "rated", caller, now, {
                "level": level, **({"replaces": earlier["level"]} if earlier else {})}))
            return case
        case = retrying(change)
        earlier = case.rating.get("history") or []
        self.work.events.publish(events.RatingGiven(
            case.case_id, datetime.fromisoformat(case.rating["at"]), level, self._handler(case),
            replaces=(earlier[-1]["level"], datetime.fromisoformat(earlier[-1]["at"]))
            if earlier else None))
        if not rules.is_satisfied(level):
            self.work.open("rectification", self.work.responsible(case), case.hall,
                           {"case_id": case.case_id, "case_no": case.case_no, "level": level,
                            "comment": comment}, SYSTEM,
                           self.work.catalog.policy(case.hall).rectification_days)
        return {"case_id": case.case_id, "rating": case.rating}

    # -- default ratings, fanned out: a message per hall, then per batch of its cases ----------
    BATCH = 50      # cases per message: about 12 calls each, well inside a function's run

    def default_rating_halls(self) -> list[dict]:
        """The daily run's shares: one message per hall that rates by default, each carrying
        the run's instant (every hall's candidates are bounded from the same moment)."""
        at = self.now().isoformat()
        return [{"hall": code, "at": at} for code in sorted(self.work.catalog.halls)
                if self.work.catalog.policy(code).default_rating_days]

    def default_rating_batches(self, hall: str, at: datetime) -> list[dict]:
        """A hall's share as batches: the cases completed long enough before `at` and still
        unrated (one query of the sparse UnratedByHall index), at most BATCH a message."""
        days = self.work.catalog.policy(hall).default_rating_days
        if not days:
            return []
        # A bound from the shortest span finds every candidate; the calendar decides.
        before = (at - self.work.clock.shortest_span(days)).isoformat()
        found = self.work.cases.unrated(hall, before)
        return [{"hall": hall, "at": at.isoformat(), "cases": found[i:i + self.BATCH]}
                for i in range(0, len(found), self.BATCH)]

    def rate_by_default(self, hall: str, case_ids: list[str]) -> list[str]:
        """One batch: each case whose period has ended and that is still unrated is rated
        满意 by default; the cases rated. Idempotent: a batch handled again (the queue delivers
        at least once) rates nothing twice, and publishes the default ratings it finds again,
        which are counted once (RatingGiven.once_id)."""
        now, clock, rated = self.now(), self.work.clock, []
        days = self.work.catalog.policy(hall).default_rating_days
        if not days:
            return []
        for case_id in case_ids:
            def change(case_id=case_id):
                case = self.work.cases.get(case_id)
                if case is None or case.hall != hall:
                    return None, False
                if case.rating:
                    return case, False
                ends = clock.deadline(datetime.fromisoformat(case.completed_at), days)
                if ends > now:
                    return None, False
                case.rating = rules.by_default(now)
                self.work.cases.update(case, record_change(
                    case, "rated_by_default", SYSTEM, now,
                    {"level": rules.DEFAULT_LEVEL, "after_days": days}))
                return case, True
            case, new = retrying(change)
            if case is None or not (new or case.rating.get("by") == "default"):
                continue
            if new:
                rated.append(case_id)
            self.work.events.publish(events.RatingGiven(
                case_id, datetime.fromisoformat(case.rating["at"]), rules.DEFAULT_LEVEL,
                self._handler(case), by_default=True))
        return rated

    def default_ratings(self) -> list[str]:
        """No rating within the hall's period (default_rating_days working days after
        completion) counts as 满意, where the hall says so: every hall's share and every batch
        in this one run (the scheduled job hands them to the queue instead)."""
        rated = []
        for share in self.default_rating_halls():
            for batch in self.default_rating_batches(share["hall"],
                                                     datetime.fromisoformat(share["at"])):
                rated += self.rate_by_default(batch["hall"], batch["cases"])
        return rated

    def on_task_answered(self, answered: events.TaskAnswered) -> None:
        """A reported rectification lets the applicant rate again."""
        if answered.kind != "rectification":
            return

        def change():
            case = self.work.cases.get(answered.subject["case_id"])
            case.rating = rules.rectified(case.rating, answered.answer["text"])
            self.work.cases.update(case, record_change(case, "rectified", SYSTEM, self.now(),
                                                       {"task_id": answered.task_id}))
        retrying(change)

    # -- appeals (恶意差评申诉) -------------------------------------------------------------------
    def appeal(self, caller: Caller, case_id: str, body: dict) -> dict:
        """A department contests a malicious rating; a supervisor decides."""
        reason = text_of(body, "reason", 1000)

        def change():
            case = self.work.case(case_id)
            if self.work.responsible(case) != caller.principal:
                raise Forbidden(f"case {case_id} was handled for department "
                                f"{self.work.responsible(case)}, not {caller.principal}",
                                field="case_id")
            now = self.now()
            case.rating = rules.appealed(case.rating, reason, caller.actor, now)
            self.work.cases.update(case, record_change(case, "rating_appealed", caller, now,
                                                       {"reason": reason}))
            return case
        return {"case_id": case_id, "rating": retrying(change).rating}

    def decide_appeal(self, caller: Caller, case_id: str, body: dict) -> dict:
        upheld = body.get("upheld")
        if not isinstance(upheld, bool):
            raise InvalidInput("upheld is true (the rating is struck out) or false",
                               field="upheld")
        reason = text_of(body, "reason", 1000)

        def change():
            case = self.work.case(case_id)
            self.work.scope.check(caller, case.hall, f"case {case_id}")
            now = self.now()
            case.rating = rules.appeal_decided(case.rating, upheld, reason, caller.actor, now)
            self.work.cases.update(case, record_change(case, "rating_appeal_decided", caller,
                                                       now, {"upheld": upheld,
                                                             "reason": reason}))
            return case
        case = retrying(change)
        if upheld:
            self.work.events.publish(events.RatingWithdrawn(
                case_id, self.now(), case.rating["level"],
                datetime.fromisoformat(case.rating["at"]), self._handler(case)))
        return {"case_id": case_id, "rating": case.rating}

    def _handler(self, case: Case) -> events.Handler:
        """A rating counts against the responsible department, and the window and staff member
        who accepted the case."""
        department = self.work.responsible(case)
        accepted = self.work.cases.branch(case.case_id, "0:" + department)
        return events.Handler(department, accepted.window if accepted else None,
                              accepted.staff_id if accepted else None)
