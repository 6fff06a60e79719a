"""Electronic supervision beyond the case workflow's own lights: supervision orders (督办单),
complaints with camera evidence, ratings (好差评) and their rectifications, 12345 hotline
requests, online consultations, violations found by rule, and what supervisors read, each
supervisor over their own hall and the halls below it."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Callable

from ..domain import supervised as work
from ..domain import trail
from ..domain import verification
from ..domain.cases import Caller, Case
from ..domain.catalog import Catalog
from ..domain.clock import WorkingClock
from ..domain.counting import is_satisfied
from ..domain.errors import (ConcurrentChange, Conflict, DomainError, Forbidden, InvalidInput,
                             NotFound, Unprocessable)
from ..domain.masking import mask_phone
from ..logs import logger
from .approval import card_raised, in_china_time
from .intake import record_change, retrying

SYSTEM = Caller("system", "supervision")
RATING_LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# The dimensions a rating may score (1-5 each), as the national 好差评 system asks them.
RATING_DIMENSIONS = ("service_attitude", "efficiency", "guide_clarity", "process_simplicity",
                     "result_fairness")
CLIP_MARGIN = timedelta(minutes=2)  # footage either side of the reported moment
MAX_CLIP = timedelta(minutes=30)
EVIDENCE_LINK_SECONDS = 300


class Supervision:
    def __init__(self, catalog: Catalog, cases, tasks, log, engine, notifier, cameras,
                 evidence, faqs, clock: WorkingClock, now: Callable[[], datetime]):
        self.catalog = catalog
        self.cases = cases
        self.tasks = tasks
        self.log = log                  # the append-only supervision events (cards, lights)
        self.engine = engine            # the supervised-task workflow
        self.notifier = notifier
        self.cameras = cameras
        self.evidence = evidence
        self.faqs = faqs                # answers published to an item's guide
        self.count: Callable[[dict], None] = lambda event: None   # performance counters
        self.idempotency = None         # set by the wiring: a retried POST opens nothing new
        self.verifications = None       # set by the wiring: visitors' text-message codes
        self.clock = clock
        self.now = now

    # -- who supervises what ------------------------------------------------------------------
    def scope(self, caller: Caller) -> set[str]:
        """The halls a supervision office sees: its own and every hall below it."""
        hall = self.catalog.office_hall(caller.principal)
        if hall is None:
            raise Forbidden(f"{caller.principal} is not a supervision office of any hall",
                            field="Authorization")
        return self.catalog.halls_under(hall)

    def check_case_scope(self, caller: Caller, case_id: str) -> None:
        case = self.cases.get(case_id) if case_id else None
        if case is not None:
            self._check_scope(caller, case.hall, f"case {case_id}")
            return
        task = self.tasks.get(case_id)
        if task is not None:
            self._check_scope(caller, task.hall, f"{task.title} {case_id}")
            return
        raise NotFound(f"no case {case_id!r}", field="case_id")

    def _check_scope(self, caller: Caller, hall: str, what: str) -> None:
        if hall not in self.scope(caller):
            raise Forbidden(f"{what} belongs to hall {hall}, outside the halls "
                            f"{caller.principal} supervises", field="hall")

    def _once(self, scope: str, key: str | None, body: dict, work: Callable[[], dict]) -> dict:
        """With an Idempotency-Key, a retry gets the first answer back (no second order,
        investigation, clip or question); without one, every request is new."""
        if key and self.idempotency is not None:
            return self.idempotency.run(scope, key, body, work)
        return work()

    # -- supervision orders (督办单) ------------------------------------------------------------
    def issue_order(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        return self._once(f"order:{caller.actor}", idempotency_key, body,
                          lambda: self._issue_order(caller, body))

    def _issue_order(self, caller: Caller, body: dict) -> dict:
        """A supervisor orders a department to act on a case or a card by a deadline."""
        case_id, card = body.get("case_id"), body.get("card")
        text = _text(body, "text", 2000)
        if not case_id and not card:
            raise InvalidInput("an order names a case_id or a card", field="case_id")
        if card:
            if not isinstance(card, dict) or not card.get("case_id") or not card.get("event_id"):
                raise InvalidInput("card is {case_id, event_id} of a recorded card", field="card")
            found = next((e for e in self.log.of_case(card["case_id"])
                          if e["event_id"] == card["event_id"]), None)
            if found is None:
                raise NotFound(f"no card {card['event_id']} on {card['case_id']}", field="card")
            department, hall, case_id = found["department"], found.get("hall"), found["case_id"]
        else:
            case = self._case(case_id)
            department = body.get("department") or self.catalog.items[case.item_code][
                "lead_department"]
            hall = case.hall
        if department not in self.catalog.departments:
            raise InvalidInput(f"no department {department!r}", field="department")
        self._check_scope(caller, hall, f"case {case_id}")
        days = body.get("limit_days", work.KINDS["order"].limit_days)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 30:
            raise InvalidInput("limit_days is a whole number of working days, 1 to 30",
                               field="limit_days")
        subject = {"case_id": case_id, "text": text, **({"card": card} if card else {})}
        task = self._open("order", department, hall, subject, caller, days)
        self.count({"kind": "supervision_order_opened", "at": task.opened_at,
                    "department": department})
        self._tell_department(task, f"【电子监察】督办单{task.task_id}：{text[:40]}，"
                                    f"请于{in_china_time(work.instant(task.deadline))}前答复。")
        return self.task_view(task)

    # -- department answers ---------------------------------------------------------------
    def answer(self, caller: Caller, task_id: str, body: dict) -> dict:
        def change():
            task = self._task(task_id)
            if task.department != caller.principal:
                raise Forbidden(f"{task.title} {task_id} is addressed to department "
                                f"{task.department}, not to {caller.principal}", field="task_id")
            now = self.now()
            work.answer_task(task, body, f"department:{caller.principal}", now)
            self.tasks.save(task, self._record(task, "answered", caller, now,
                                               {"answer": task.answer["text"]}))
            return task
        task = retrying(change)
        if task.token:
            self.engine.deliver(task.token, {"outcome": "answered"})
        if task.kind == "order":
            self.count({"kind": "supervision_order_answered", "at": task.answered_at,
                        "opened_at": task.opened_at, "department": task.department})
        self._after_answer(task)
        return self.task_view(task)

    def tasks_of(self, caller: Caller) -> dict:
        now = self.now()
        return {"tasks": [self.task_view(t, now)
                          for t in self.tasks.open_of_department(caller.principal)]}

    # -- the supervised-task workflow's messages --------------------------------------------
    def on_task_message(self, message: dict) -> str:
        """The workflow waits on a task with a new token. The wait after instant i > 0 began
        the moment instant i - 1 ran out, so its message raises that instant."""
        def change():
            task = self.tasks.get(message["task_id"])
            if task is None:
                return "ignored: no such task", None
            if task.token_since and message["since"] <= task.token_since:
                return "ignored: an older task", None
            raised = None
            if message.get("timer", 0) > 0:
                raised = work.fired(task, message["timer"] - 1)
                if raised:
                    task.emitted.append(raised["kind"])
            task.token, task.token_since = message["token"], message["since"]
            record = self._record(task, f"supervision_{raised['kind']}", SYSTEM, self.now(),
                                  {"at": message["since"]}) if raised else None
            self.tasks.save(task, record)
            return "token kept", (task, raised)
        said, found = retrying(change)
        if found is None:
            return said
        task, raised = found
        if raised:
            self._raise(task, raised, message["since"])
            said = f"{raised['kind']}; {said}"
        if task.status == work.ANSWERED:
            self.engine.deliver(task.token, {"outcome": "answered"})
            said += "; answer delivered again"
        return said

    def _raise(self, task: work.SupervisedTask, timer: dict, at: str) -> None:
        light = work.TIMER_LIGHTS[timer["kind"]]
        dept = self.catalog.departments[task.department]
        chief = dept["chief_representative"]
        event = {"event_id": f"{task.task_id}#{timer['kind']}", "case_id": task.task_id,
                 "case_no": task.subject.get("case_no"), "task_id": task.task_id,
                 "task_kind": task.kind, "kind": timer["kind"], "light": light,
                 "card": light is not None and timer["kind"] != "yellow",
                 "scope": "task", "task": task.title, "department": task.department,
                 "hall": task.hall, "window": task.subject.get("window"),
                 "staff_id": task.subject.get("staff_id"), "chief_staff_id": chief["staff_id"],
                 "chief_name": chief["name"], "deadline": task.deadline,
                 "planned_at": timer["at"], "at": at,
                 "delay_seconds": round(
                     (work.instant(at) - work.instant(timer["at"])).total_seconds(), 3)}
        if not self.log.record(event):
            return
        if light:
            card_raised(event)
        words = {"yellow": "即将到期", "red": "已超期（红牌）", "escalation": "逾期未答复，已升级督办",
                 "reminder": "已超期，请尽快办理（催办）", "reprimand": "超期5个工作日仍未办结，予以通报（红牌）"}
        self._tell_department(task, f"【电子监察】{task.title}{task.task_id}"
                                    f"{words[timer['kind']]}，"
                                    f"期限{in_china_time(work.instant(task.deadline))}。")

    # -- visitors prove a mobile number -------------------------------------------------------
    def send_visitor_code(self, body: dict) -> dict:
        """A visitor without an account asks for a code by text message: the number must
        prove itself before the system keeps evidence or texts anyone for them."""
        phone = verification.phone_of(body.get("phone"))

        def change():
            now = self.now()
            record, code = verification.issue(self.verifications.get(phone), phone, now)
            self.verifications.save(record)      # on the version read: one code per race
            return record, code, now
        try:
            record, code, now = retrying(change, attempts=3)
        except ConcurrentChange:
            raise verification.TooManyRequests("a code is being sent to this number right "
                                               "now; wait a minute", field="phone")
        self.notifier.send(phone, f"【亳州市政务服务】您的验证码为{code}，用于来访投诉身份验证，"
                                  f"{int(verification.CODE_TTL.total_seconds() // 60)}分钟内有效。"
                                  "如非本人操作，请忽略本短信。")
        logger.info("visitor code sent", extra={"phone": mask_phone(phone)})
        return {"phone": mask_phone(phone), "expires_at": record.expires_at,
                "expires_in": int(verification.CODE_TTL.total_seconds()),
                "resend_after": int(verification.RESEND_AFTER.total_seconds()),
                "sends_left_today": verification.sends_left(record, now)}

    def _verify_visitor(self, body: dict) -> str:
        """The phone and code of a visitor's request; the code is used up here. A wrong one
        counts against the code (void after 5) and is refused: 403 naming `code`."""
        phone = verification.phone_of(body.get("phone"))
        code = verification.code_of(body.get("code"))

        def change():
            record = self.verifications.get(phone)
            tried = record.attempts if record else None
            holds, why = verification.check(record, code, self.now())
            if record is not None and (holds or record.attempts != tried):
                self.verifications.save(record)
            return holds, why
        holds, why = retrying(change)
        if not holds:
            logger.info("visitor code refused", extra={"phone": mask_phone(phone),
                                                       "reason": why})
            raise verification.refused(why)
        return phone

    def _give_code_back(self, phone: str) -> None:
        def change():
            record = self.verifications.get(phone)
            if record is not None and verification.release(record, self.now()):
                self.verifications.save(record)
        try:
            retrying(change, attempts=3)
        except ConcurrentChange:
            pass     # a new code was requested meanwhile: the old one stays used

    # -- complaints with camera evidence ----------------------------------------------------
    def file_complaint(self, caller: Caller, body: dict,
                       idempotency_key: str | None = None) -> dict:
        scope = f"complaint:{caller.actor}"
        if caller.role == "public" and isinstance(body.get("phone"), str):
            scope += ":" + body["phone"].strip()     # visitors share one actor
        return self._once(scope, idempotency_key, body,
                          lambda: self._file_complaint(caller, body))

    def _file_complaint(self, caller: Caller, body: dict) -> dict:
        """投诉: names the window and the moment of the visit; the window camera's clip around
        it becomes evidence, written once, and an investigation opens under its own deadline."""
        window, dept = self._window(body.get("window"))
        visited = _instant(body, "visited_at")
        if visited > self.now():
            raise InvalidInput("visited_at is in the future", field="visited_at")
        text = _text(body, "text", 2000)
        case_id = body.get("case_id")
        if case_id is not None:
            if caller.role != "citizen":
                raise InvalidInput("a complaint about a case is filed by its applicant, "
                                   "signed in", field="case_id")
            case = self.cases.get(case_id) if isinstance(case_id, str) else None
            if case is None or case.applicant.get("id_number") != caller.id_number:
                raise NotFound(f"no case {case_id!r}", field="case_id")
        complainant = {"role": caller.role, "actor": caller.actor}
        if caller.role == "public":
            # Nothing is fetched, kept or texted for a visitor before the number proved itself.
            phone = self._verify_visitor(body)
            complainant.update({"contact": phone, "phone_verified_at": self.now().isoformat()})
            try:
                return self._complaint_with_evidence(caller, window, dept, visited, text,
                                                     case_id, complainant)
            except DomainError:
                # Refused before anything was kept (no footage at that moment, say): the
                # visitor may correct the request and send it again with the same code.
                self._give_code_back(phone)
                raise
        if body.get("contact"):
            complainant["contact"] = _text(body, "contact", 100)
        return self._complaint_with_evidence(caller, window, dept, visited, text, case_id,
                                             complainant)

    def _complaint_with_evidence(self, caller: Caller, window: dict, dept: dict,
                                 visited: datetime, text: str, case_id, complainant: dict
                                 ) -> dict:
        clip = self.cameras.clip(window["camera_stream"], visited - CLIP_MARGIN,
                                 visited + CLIP_MARGIN)
        task_id = "TS" + self.now().strftime("%Y%m%d") + secrets.token_hex(4).upper()
        stored = self._store_clip(task_id, window, visited - CLIP_MARGIN, visited + CLIP_MARGIN,
                                  clip)
        subject = {"window": window["code"], "visited_at": visited.isoformat(), "text": text,
                   "case_id": case_id, "complainant": complainant, "evidence": [stored]}
        task = self._open("investigation", dept["code"], window["hall"], subject, caller,
                          None, task_id=task_id,
                          first=("evidence_stored", {"key": stored["key"],
                                                     "version_id": stored["version_id"],
                                                     "sha256": stored["sha256"],
                                                     "bytes": stored["bytes"]}))
        self.count({"kind": "complaint_filed", "at": task.opened_at, "department": dept["code"],
                    "window": window["code"]})
        if complainant.get("phone_verified_at"):
            self.notifier.send(complainant["contact"], (
                f"【电子监察】您的投诉已受理，编号{task.task_id}，承办部门{dept['name']}，"
                f"办理期限{in_china_time(work.instant(task.deadline))}。"))
        return self.task_view(task)

    def pull_clip(self, caller: Caller, body: dict) -> dict:
        """A supervisor pulls footage of any window they supervise for any period."""
        window, _dept = self._window(body.get("window"))
        self._check_scope(caller, window["hall"], f"window {window['code']}")
        start, end = _instant(body, "start"), _instant(body, "end")
        if end <= start:
            raise InvalidInput("end must be after start", field="end")
        if end - start > MAX_CLIP:
            raise InvalidInput("a clip covers at most 30 minutes", field="end")
        clip = self.cameras.clip(window["camera_stream"], start, end, period_field="start")
        pulled_id = "CLIP" + self.now().strftime("%Y%m%d") + secrets.token_hex(4).upper()
        stored = self._store_clip(pulled_id, window, start, end, clip)
        self.log.record({"event_id": f"{pulled_id}#pulled", "case_id": pulled_id,
                         "kind": "clip_pulled", "light": None, "card": False,
                         "department": _dept["code"], "hall": window["hall"],
                         "window": window["code"], "at": self.now().isoformat(),
                         "by": caller.actor, "evidence": stored})
        return {"clip_id": pulled_id, **stored}

    def _store_clip(self, owner: str, window: dict, start: datetime, end: datetime,
                    clip) -> dict:
        extension = {"video/mp4": "mp4", "video/x-matroska": "mkv"}.get(clip.content_type, "bin")
        key = f"evidence/{owner}/{window['camera_stream']}-{start:%Y%m%dT%H%M%S}.{extension}"
        sha256 = hashlib.sha256(clip.content).hexdigest()
        # The version S3 gave the clip goes into the trail: a link opens exactly that one.
        version_id = self.evidence.put_once(key, clip.content, clip.content_type, sha256)
        return {"key": key, "version_id": version_id, "sha256": sha256,
                "bytes": len(clip.content),
                "content_type": clip.content_type, "window": window["code"],
                "stream": window["camera_stream"], "start": start.isoformat(),
                "end": end.isoformat()}

    def view_evidence(self, caller: Caller, task_id: str, index: int = 0) -> dict:
        """A short-lived link to a clip; the viewing itself goes into the task's trail."""
        def change():
            task = self._task(task_id)
            self._check_scope(caller, task.hall, f"{task.title} {task_id}")
            clips = task.subject.get("evidence") or []
            if not 0 <= index < len(clips):
                raise NotFound(f"{task_id} has no evidence clip {index}", field="index")
            self.tasks.save(task, self._record(task, "evidence_viewed", caller, self.now(),
                                               {"key": clips[index]["key"],
                                                "version_id": clips[index].get("version_id")}))
            return clips[index]
        clip = retrying(change)
        logger.info("evidence viewed", extra={"task_id": task_id, "key": clip["key"],
                                              "viewer": caller.actor})
        return {**clip, "url": self.evidence.link(clip["key"], EVIDENCE_LINK_SECONDS,
                                                  clip.get("version_id")),
                "expires_in": EVIDENCE_LINK_SECONDS}

    # -- ratings (好差评) -----------------------------------------------------------------------
    def rate(self, caller: Caller, case_id: str, body: dict) -> dict:
        """一事一评: the applicant rates a completed case once; a 差评 opens a rectification;
        after the rectification is reported the applicant may rate again."""
        level = body.get("level")
        if not isinstance(level, int) or isinstance(level, bool) or level not in RATING_LEVELS:
            raise InvalidInput("level is 5 非常满意, 4 满意, 3 基本满意, 2 不满意 or 1 非常不满意",
                               field="level")
        dimensions = body.get("dimensions") or {}
        if not isinstance(dimensions, dict):
            raise InvalidInput("dimensions is an object of scores 1-5", field="dimensions")
        for name, score in dimensions.items():
            if name not in RATING_DIMENSIONS:
                raise InvalidInput(f"unknown rating dimension {name!r}; known: "
                                   f"{', '.join(RATING_DIMENSIONS)}", field=f"dimensions.{name}")
            if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
                raise InvalidInput("each dimension scores 1 to 5", field=f"dimensions.{name}")
        comment = body.get("comment") or ""
        if not isinstance(comment, str) or len(comment) > 500:
            raise InvalidInput("comment is text of at most 500 characters", field="comment")

        def change():
            case = self._case(case_id)
            if case.applicant.get("id_number") != caller.id_number:
                # As for reading it: someone else's case is not there for this caller.
                raise NotFound(f"no case {case_id!r}", field="case_id")
            if case.status not in ("completed", "refused"):
                raise Conflict(f"case {case.case_no or case_id} is not completed yet",
                               field="case_id")
            rating = getattr(case, "rating", None) or {}
            if rating and not rating.get("may_rerate"):
                raise Conflict("this case was rated already (一事一评)", field="case_id")
            now = self.now()
            previous = rating.get("level")
            rating = {"level": level, "label": RATING_LEVELS[level], "dimensions": dimensions,
                      "comment": comment, "at": now.isoformat(), "by": "applicant",
                      "history": rating.get("history", []) + ([{k: rating[k] for k in (
                          "level", "at")}] if previous else [])}
            case.rating = rating
            self.cases.update(case, record_change(case, "rated", caller, now, {
                "level": level, **({"replaces": previous} if previous else {})}))
            return case
        case = retrying(change)
        accepted = self.cases.branch(case.case_id, "0:" + self._responsible(case))
        previous = case.rating.get("history") or []
        self.count({"kind": "rating_given", "at": case.rating["at"], "level": level,
                    "department": self._responsible(case),
                    **({"window": accepted.window, "staff": accepted.staff_id}
                       if accepted else {}),
                    **({"previous_level": previous[-1]["level"],
                        "previous_at": previous[-1]["at"]} if previous else {})})
        if not is_satisfied(level):
            lead = self._responsible(case)
            self._open("rectification", lead, case.hall,
                       {"case_id": case.case_id, "case_no": case.case_no, "level": level,
                        "comment": comment}, SYSTEM,
                       self.catalog.halls[case.hall].get("rectification_days"))
        return {"case_id": case.case_id, "rating": case.rating}

    def default_ratings(self) -> list[str]:
        """No rating within the hall's period (default_rating_days working days after
        completion) counts as 满意, where the hall says so. Run daily; reads only the cases
        completed long enough ago and still unrated."""
        now, rated = self.now(), []
        for code, hall in sorted(self.catalog.halls.items()):
            days = hall.get("default_rating_days")
            if not days:
                continue
            # A bound from the shortest span finds every candidate; the calendar decides.
            before = (now - self.clock.shortest_span(days)).isoformat()
            for case_id in self.cases.unrated(code, before):
                def change(case_id=case_id, days=days):
                    case = self.cases.get(case_id)
                    ends = self.clock.deadline(self.clock.counting_starts(
                        datetime.fromisoformat(case.completed_at)), days)
                    if case.rating or ends > now:
                        return None
                    case.rating = {"level": 4, "label": RATING_LEVELS[4], "dimensions": {},
                                   "comment": "", "at": now.isoformat(), "by": "default",
                                   "history": []}
                    self.cases.update(case, record_change(case, "rated_by_default", SYSTEM, now,
                                                          {"level": 4, "after_days": days}))
                    return case
                case = retrying(change)
                if case is None:
                    continue
                rated.append(case_id)
                accepted = self.cases.branch(case_id, "0:" + self._responsible(case))
                self.count({"kind": "rating_given", "at": now, "level": 4,
                            "department": self._responsible(case),
                            **({"window": accepted.window, "staff": accepted.staff_id}
                               if accepted else {})})
        return rated

    def appeal(self, caller: Caller, case_id: str, body: dict) -> dict:
        """A department contests a malicious rating (恶意差评申诉); a supervisor decides."""
        reason = _text(body, "reason", 1000)

        def change():
            case = self._case(case_id)
            if self._responsible(case) != caller.principal:
                raise Forbidden(f"case {case_id} was handled for department "
                                f"{self._responsible(case)}, not {caller.principal}",
                                field="case_id")
            rating = case.rating or {}
            if not rating or is_satisfied(rating["level"]):
                raise Conflict("only a 差评 can be appealed", field="case_id")
            if rating.get("appeal"):
                raise Conflict("this rating was appealed already", field="case_id")
            now = self.now()
            case.rating = {**rating, "appeal": {"reason": reason, "at": now.isoformat(),
                                                "by": caller.actor, "status": "pending"}}
            self.cases.update(case, record_change(case, "rating_appealed", caller, now,
                                                  {"reason": reason}))
            return case
        return {"case_id": case_id, "rating": retrying(change).rating}

    def decide_appeal(self, caller: Caller, case_id: str, body: dict) -> dict:
        upheld = body.get("upheld")
        if not isinstance(upheld, bool):
            raise InvalidInput("upheld is true (the rating is struck out) or false",
                               field="upheld")
        reason = _text(body, "reason", 1000)

        def change():
            case = self._case(case_id)
            self._check_scope(caller, case.hall, f"case {case_id}")
            appeal = (case.rating or {}).get("appeal")
            if not appeal or appeal["status"] != "pending":
                raise Conflict("there is no pending appeal on this case's rating",
                               field="case_id")
            now = self.now()
            appeal = {**appeal, "status": "upheld" if upheld else "rejected",
                      "decided_by": caller.actor, "decided_at": now.isoformat(),
                      "decision_reason": reason}
            case.rating = {**case.rating, "appeal": appeal,
                           **({"struck_out": True} if upheld else {})}
            self.cases.update(case, record_change(case, "rating_appeal_decided", caller, now,
                                                  {"upheld": upheld, "reason": reason}))
            return case
        case = retrying(change)
        if upheld:
            accepted = self.cases.branch(case_id, "0:" + self._responsible(case))
            self.count({"kind": "rating_withdrawn", "at": self.now(),
                        "level": case.rating["level"], "rated_at": case.rating["at"],
                        "department": self._responsible(case),
                        **({"window": accepted.window, "staff": accepted.staff_id}
                           if accepted else {})})
        return {"case_id": case_id, "rating": case.rating}

    # -- 12345 hotline and online consultation ----------------------------------------------
    def hotline(self, caller: Caller, body: dict) -> dict:
        """The 12345 system forwards a request; it is routed to a department under the
        deadline of its kind and supervised like a case."""
        category = body.get("category")
        kinds = {"enquiry": "enquiry", "complaint": "hotline_complaint"}
        if category not in kinds:
            raise InvalidInput("category is enquiry (咨询) or complaint (投诉)",
                               field="category")
        text = _text(body, "text", 4000)
        location = _text(body, "location", 200)
        contact = _text(body, "contact", 100)
        reference = _text(body, "reference", 64)
        if not re.fullmatch(r"[A-Za-z0-9-]+", reference):
            raise InvalidInput("reference is the hotline's own number: letters, digits and -",
                               field="reference")
        department = body.get("department") or self._route(text)
        if department not in self.catalog.departments:
            raise Unprocessable(f"no department {department!r} to route to", field="department")
        hall = body.get("hall") or self.catalog.departments[department]["hall"]
        if hall not in self.catalog.halls:
            raise InvalidInput(f"no hall {hall!r}", field="hall")
        subject = {"text": text, "location": location, "contact": contact,
                   "reference": reference, "category": category}
        task_id = f"RX-{caller.principal}-{reference}"
        forwarded = self.tasks.get(task_id)
        if forwarded is not None:
            # The hotline's system retries: the same reference is the same request.
            if forwarded.subject != subject or forwarded.department != department \
                    or forwarded.hall != hall:
                raise Conflict(f"12345 request {reference} was forwarded already with other "
                               "content", field="reference")
            return self.task_view(forwarded)
        days = self.catalog.halls[hall].get(f"hotline_{category}_days")
        task = self._open(kinds[category], department, hall, subject, caller, days,
                          task_id=task_id)
        return self.task_view(task)

    def _route(self, text: str) -> str:
        """The department a request names, by name or short name; otherwise the hotline
        must say (no guessing who is responsible)."""
        for code, dept in sorted(self.catalog.departments.items(),
                                 key=lambda kv: -len(kv[1]["name"])):
            if dept["name"] in text or dept.get("short_name", "\0") in text:
                return code
        raise Unprocessable("the request names no department; forward it with department",
                            field="department")

    def ask(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        return self._once(f"consultation:{caller.actor}", idempotency_key, body,
                          lambda: self._ask(caller, body))

    def _ask(self, caller: Caller, body: dict) -> dict:
        """网上咨询: a question on an item, answered by the item's lead department."""
        code = body.get("item")
        item = self.catalog.items.get(code) if isinstance(code, str) else None
        if item is None:
            raise NotFound(f"no item {code!r} in the guide", field="item")
        question = _text(body, "question", 1000)
        hall = body.get("hall") or item["halls"][0]
        if hall not in item["halls"]:
            raise InvalidInput(f"item {code} is not offered in hall {hall!r}", field="hall")
        subject = {"item": code, "item_name": item["name"], "question": question,
                   "asker": caller.actor}
        task = self._open("consultation", item["lead_department"], hall, subject, caller,
                          self.catalog.halls[hall].get("consultation_days"))
        return self.task_view(task)

    def my_questions(self, caller: Caller, task_id: str) -> dict:
        task = self._task(task_id)
        if task.kind != "consultation" or task.subject.get("asker") != caller.actor:
            raise NotFound(f"you asked no question {task_id}", field="task_id")
        return self.task_view(task)

    def _after_answer(self, task: work.SupervisedTask) -> None:
        """What an answer sets off: a reported rectification lets the applicant rate again; a
        consultation answer marked for publishing joins the item's FAQ."""
        if task.kind == "rectification":
            def change():
                case = self.cases.get(task.subject["case_id"])
                case.rating = {**case.rating, "may_rerate": True,
                               "rectified": task.answer["text"]}
                self.cases.update(case, record_change(case, "rectified", SYSTEM, self.now(),
                                                      {"task_id": task.task_id}))
            retrying(change)
        if task.kind == "consultation" and task.answer.get("publish"):
            self.faqs.publish(task.subject["item"], {
                "q": task.subject["question"], "a": task.answer["text"],
                "source": task.task_id, "department": task.department,
                "published_at": task.answered_at})

    # -- violations found by rule ------------------------------------------------------------
    def policy(self, hall: str):
        from ..domain import violations

        configured = self.catalog.halls[hall].get("violation_policy")
        return violations.Policy.from_dict(configured) if configured \
            else violations.DEFAULT_POLICY

    def watch_case(self, case_id: str) -> list[dict]:
        """Runs every violation rule over the case's recorded facts; each finding becomes a
        card once (its id is the same however often the rules run), named after the
        responsible staff, window, department and chief representative, and notified."""
        from ..domain import violations

        case = self.cases.get(case_id)
        if case is None:
            return []
        facts = violations.CaseFacts.of(case, self.cases.branches(case_id),
                                        self.cases.trail(case_id), self.catalog,
                                        clock=self.clock)
        raised = []
        for finding in violations.detect(facts, self.policy(case.hall)):
            found = finding.to_dict()
            event = {**found, "event_id": finding.finding_id, "case_id": case_id,
                     "case_no": case.case_no, "kind": f"violation:{finding.rule}",
                     "light": finding.severity, "card": True, "scope": "violation",
                     "hall": case.hall}
            if not self.log.record(event):
                continue
            card_raised(event)
            raised.append(event)
            self.count({"kind": "card_raised", "at": finding.at,
                        "department": finding.department, "window": finding.window,
                        "staff": finding.staff_id, "color": finding.severity})
            text = (f"【电子监察】{'红牌' if finding.severity == 'red' else '黄牌'}："
                    f"办件{case.case_no}「{finding.title}」，请核查整改。")
            for person in (self.catalog.staff(finding.staff_id or ""),
                           self.catalog.staff(finding.chief_staff_id or "")):
                if person and person.phone:
                    self.notifier.send(person.phone, text)
        return raised

    # -- reads for supervisors ----------------------------------------------------------------
    def cards(self, caller: Caller, params: dict) -> dict:
        halls = self.scope(caller)
        if params.get("hall"):
            self._check_scope(caller, params["hall"], f"hall {params['hall']}")
            halls = self.catalog.halls_under(params["hall"])
        events = self.log.of_halls(halls, since=params.get("since"))
        wanted = {k: params[k] for k in ("department", "light", "kind") if params.get(k)}
        found = [e for e in events if all(str(e.get(k)) == v for k, v in wanted.items())]
        return {"halls": sorted(halls), "count": len(found), "events": found}

    def task_list(self, caller: Caller, params: dict) -> dict:
        halls = self.scope(caller)
        now = self.now()
        found = [self.task_view(t, now, unmasked=True) for t in self.tasks.of_halls(halls)
                 if not params.get("kind") or t.kind == params["kind"]]
        return {"halls": sorted(halls), "count": len(found), "tasks": found}

    def task_for_supervisor(self, caller: Caller, task_id: str) -> dict:
        task = self._task(task_id)
        self._check_scope(caller, task.hall, f"{task.title} {task_id}")
        # The head the task stores, read before its records: a deleted newest one is reported.
        records = self.tasks.trail(task_id)
        verdict = trail.verify(records, (task.trail_seq, task.trail_hash))
        return {**self.task_view(task, unmasked=True), "trail": [r.to_dict() for r in records],
                "verdict": verdict.to_dict()}

    def task_view(self, task: work.SupervisedTask, at: datetime | None = None,
                  unmasked: bool = False) -> dict:
        view = task.to_dict()
        for internal in ("token", "token_since", "trail_hash", "version"):
            view.pop(internal)
        # A complainant's contact (a visitor's verified phone) is shown in full only to the
        # supervision office over the task's hall, which investigates; every other view (the
        # complainant's own answer, the department's list) shows it masked. Other contacts
        # reach the handling department through its own channel and are always masked.
        complainant = view["subject"].get("complainant")
        if complainant and complainant.get("contact") and not unmasked:
            complainant["contact"] = mask_phone(complainant["contact"])
        if view["subject"].get("contact"):
            view["subject"]["contact"] = mask_phone(view["subject"]["contact"])
        return {**view, "title": task.title, "light": work.light(task, at or self.now())}

    # -- plumbing -------------------------------------------------------------------------
    def _open(self, kind: str, department: str, hall: str, subject: dict, caller: Caller,
              limit_days: int | None, task_id: str | None = None,
              first: tuple | None = None) -> work.SupervisedTask:
        now = self.now()
        prefix = {"order": "DB", "investigation": "TS", "rectification": "ZG", "enquiry": "RX",
                  "hotline_complaint": "RX", "consultation": "ZX"}[kind]
        task_id = task_id or prefix + now.strftime("%Y%m%d") + secrets.token_hex(4).upper()
        task = work.open_task(task_id, kind, department, hall, subject, caller.actor, now,
                              self.clock, limit_days,
                              float(self.catalog.halls[hall].get("yellow_share", 0.8)))
        record = self._record(task, "opened", caller, now,
                              {"kind": kind, "department": department,
                               "deadline": task.deadline})
        if first:
            self.tasks.save(task, record)
            record = self._record(task, first[0], caller, now, first[1])
        self.tasks.save(task, record)
        from ..domain.approval import waits
        timers = waits(task.timers, now)
        self.engine.start(task_id, {"task_id": task_id, "timers": timers, "i": 0,
                                    "wait": timers[0]})
        return task

    def _record(self, task, action: str, caller: Caller, at: datetime, data: dict):
        record = trail.append(task.task_id, task.trail_seq, task.trail_hash, action,
                              caller.actor, at.isoformat(), data)
        task.trail_seq, task.trail_hash = record.seq, record.hash
        return record

    def _tell_department(self, task: work.SupervisedTask, text: str) -> None:
        dept = self.catalog.departments[task.department]
        chief = self.catalog.staff(dept["chief_representative"]["staff_id"])
        if chief and chief.phone:
            self.notifier.send(chief.phone, text)

    def _responsible(self, case: Case) -> str:
        return self.catalog.items[case.item_code]["lead_department"]

    def _case(self, case_id) -> Case:
        case = self.cases.get(case_id) if isinstance(case_id, str) and case_id else None
        if case is None:
            raise NotFound(f"no case {case_id!r}", field="case_id")
        return case

    def _task(self, task_id) -> work.SupervisedTask:
        task = self.tasks.get(task_id) if isinstance(task_id, str) and task_id else None
        if task is None:
            raise NotFound(f"no supervised task {task_id!r}", field="task_id")
        return task

    def _window(self, code) -> tuple[dict, dict]:
        for dept in self.catalog.departments.values():
            for window in dept["windows"]:
                if window["code"] == code:
                    return window, dept
        raise Unprocessable(f"there is no window {code!r}", field="window")


def _text(body: dict, name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required text", field=name)
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    return value.strip()


def _instant(body: dict, name: str) -> datetime:
    value = body.get(name)
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is an ISO 8601 instant with its offset, e.g. "
                           "2026-11-20T09:30:00+08:00", field=name)
    if at.tzinfo is None:
        raise InvalidInput(f"{name} needs its UTC offset, e.g. +08:00", field=name)
    return at
