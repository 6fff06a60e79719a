"""Ratings (好差评) as the service runs them: the applicant's rating, the daily default rating,
the rectification a 差评 opens and the re-rating its report allows, and the appeal of a
malicious 差评. The rules themselves are chalicelib/domain/ratings.py."""
from __future__ import annotations

from datetime import datetime

from ...domain import events
from ...domain import ratings as rules
from ...domain.cases import Caller, Case
from ...domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..approval import in_china_time
from ..intake import record_change, retrying
from .work import SYSTEM, SupervisedWork, text_of

# The scheduled job that rates unrated cases 满意 (chalicelib/domain/trail.py): the rating is
# credited to it, never to the applicant who gave none.
DEFAULT_RATING_JOB = Caller("system", "default_ratings")


def _told(opened: list[dict]) -> str:
    """What the applicant is told: the rating is recorded and, after a 差评, where the
    rectification opened and by when it must be answered (China time)."""
    if not opened:
        return "感谢您的评价，评价已记录。"
    where = "；".join(f"{r['department_name'] or r['department']}（编号 {r['task_id']}），须于 "
                     f"{in_china_time(datetime.fromisoformat(r['deadline']))} 前答复整改情况"
                     for r in opened)
    return f"评价已记录。针对您的差评，已启动差评整改：{where}。整改答复后您可以重新评价。"


class Ratings:
    def __init__(self, work_: SupervisedWork):
        self.work = work_

    @property
    def now(self):
        return self.work.now

    def rate(self, caller: Caller, case_id: str, body: dict) -> dict:
        """一事一评: the applicant rates a completed case once, as a whole and, if they wish,
        each department that handled it; a 差评 opens a rectification at the department it is
        about (the lead only when no department was given one), and the applicant is told where
        and by when it must be answered; after the rectification is reported the applicant may
        rate again."""
        level, dimensions, comment = rules.rating_of(body)

        def change():
            try:
                case = self.work.case(case_id)
            except NotFound:
                raise NotFound(f"您名下没有办件 {case_id}", field="case_id") from None
            if case.applicant.get("id_number") != caller.id_number:
                # As for reading it: someone else's case is not there for this caller.
                raise NotFound(f"您名下没有办件 {case_id}", field="case_id")
            if case.status not in ("completed", "refused"):
                raise Conflict(f"办件 {case.case_no or case_id} 尚未办结，办结后方可评价",
                               field="case_id")
            departments = rules.departments_of(body, self.work.handled_by(case))
            earlier = getattr(case, "rating", None) or {}
            now = self.now()
            case.rating = rules.rate(earlier, level, dimensions, comment, now, departments)
            self.work.cases.update(case, record_change(case, "rated", caller, now, {
                "level": level, **({"departments": departments} if departments else {}),
                **({"replaces": earlier["level"]} if earlier else {})}))
            return case
        case = retrying(change)
        earlier = case.rating.get("history") or []
        self.work.events.publish(events.RatingGiven(
            case.case_id, datetime.fromisoformat(case.rating["at"]), level, self._handler(case),
            replaces=(earlier[-1]["level"], datetime.fromisoformat(earlier[-1]["at"]))
            if earlier else None,
            departments=tuple(sorted(rules.department_levels(case.rating).items())),
            replaces_departments=tuple(sorted(rules.department_levels(earlier[-1]).items()))
            if earlier else ()))
        opened = self._rectify(case, level, rules.department_levels(case.rating), comment)
        if opened:
            case = self._tell_rectifications(case.case_id, opened)
        return {"case_id": case.case_id, "rating": case.rating,
                "rectifications": opened, "message": _told(opened)}

    def _rectify(self, case: Case, level: int, departments: dict[str, int],
                 comment: str) -> list[dict]:
        """A rectification (差评整改) at each department the 差评 is about, addressed to the
        window and staff member of its part of the case, due on the hall's working-day clock."""
        handled = self.work.handled_by(case)
        opened = []
        for department in rules.rectified_at(level, departments,
                                             self.work.responsible(case)):
            part = handled.get(department) or {}
            subject = {"case_id": case.case_id, "case_no": case.case_no,
                       "level": departments.get(department, level), "comment": comment,
                       **{k: part[k] for k in ("window", "staff_id") if part.get(k)}}
            task = self.work.open("rectification", department, case.hall, subject, SYSTEM,
                                  self.work.catalog.policy(case.hall).rectification_days)
            name = (self.work.catalog.departments.get(department) or {}).get("name")
            opened.append({"task_id": task.task_id, "department": department,
                           "department_name": name, "deadline": task.deadline})
        return opened

    def _tell_rectifications(self, case_id: str, opened: list[dict]) -> Case:
        """The case keeps where its rating's rectifications opened and when they are due, so
        the applicant reads it on the case page; the trail credits it to supervision."""
        def change():
            case = self.work.cases.get(case_id)
            case.rating = {**case.rating, "rectifications": opened}
            self.work.cases.update(case, record_change(
                case, "rectification_opened", SYSTEM, self.now(),
                {"rectifications": [{k: r[k] for k in ("task_id", "department", "deadline")}
                                    for r in opened]}))
            return case
        return retrying(change)

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
                    case, "rated_by_default", DEFAULT_RATING_JOB, now,
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
        """A department contests a malicious rating of its own part (or of the whole case, as
        its lead, where no department was rated); a supervisor decides."""
        reason = text_of(body, "reason", 1000)

        def change():
            case = self.work.case(case_id)
            lead = self.work.responsible(case)
            rated = rules.department_levels(case.rating)
            if caller.principal not in rated and caller.principal != lead:
                raise Forbidden(f"case {case_id} was rated for department "
                                f"{'、'.join(sorted(rated)) or lead}, not {caller.principal}",
                                field="case_id")
            now = self.now()
            case.rating = rules.appealed(case.rating, reason, caller.actor, now,
                                         caller.principal, lead)
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
                datetime.fromisoformat(case.rating["at"]), self._handler(case),
                departments=tuple(sorted(rules.department_levels(case.rating).items()))))
        return {"case_id": case_id, "rating": case.rating}

    def _handler(self, case: Case) -> events.Handler:
        """A rating as a whole counts against the window and staff member who accepted the
        case, and the lead department unless the applicant rated departments (then each
        department counts its own level: RatingGiven.department_levels)."""
        department = self.work.responsible(case)
        accepted = self.work.cases.branch(case.case_id, "0:" + department)
        return events.Handler(department, accepted.window if accepted else None,
                              accepted.staff_id if accepted else None)
