"""Supervised work that is not a case: supervision orders (督办单) and the tasks every other part
of supervision opens (investigations, rectifications, 12345 requests, consultations), each under
its own deadline in the supervised-task workflow, answered by the department it is addressed
to; and what supervisors and departments read of them."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Callable

from ...domain import events
from ...domain import people
from ...domain import supervised as work
from ...domain import trail
from ...domain.approval import CASE, bound, waits
from ...domain.cases import Caller, Case, is_case_number
from ...domain.catalog import Catalog
from ...domain.clock import WorkingClock
from ...domain.errors import Forbidden, InvalidInput, NotFound, Unprocessable
from ...domain.masking import mask_phone, mask_text
from ...domain.pages import Page
from ..approval import in_china_time
from ..intake import retrying
from .scope import Scope

SYSTEM = Caller("system", "supervision")
PREFIXES = {"order": "DB", "investigation": "TS", "rectification": "ZG", "enquiry": "RX",
            "hotline_complaint": "RX", "consultation": "ZX"}
TIMER_WORDS = {"yellow": "即将到期", "red": "已超期（红牌）", "escalation": "逾期未答复，已升级督办",
               "reminder": "已超期，请尽快办理（催办）", "reprimand": "超期5个工作日仍未办结，予以通报（红牌）"}
# What people type in their own words (a complaint, a 12345 request, a question, a rating's
# comment): identity and mobile numbers in it are masked for every reader but its author.
FREE_TEXT = frozenset({"text", "location", "question", "comment"})


class SupervisedWork:
    def __init__(self, catalog: Catalog, cases, tasks, log, engine, notifier,
                 clock: WorkingClock, now: Callable[[], datetime], scope: Scope,
                 events_bus, idempotency=None):
        self.catalog = catalog
        self.cases = cases
        self.tasks = tasks
        self.log = log                  # the append-only supervision events (cards, lights)
        self.engine = engine            # the supervised-task workflow
        self.notifier = notifier
        self.clock = clock
        self.now = now
        self.scope = scope
        self.events = events_bus
        self.idempotency = idempotency  # a retried POST opens nothing new

    def once(self, scope: str, key: str | None, body: dict, task: Callable[[], dict]) -> dict:
        """With an Idempotency-Key, a retry gets the first answer back (no second order,
        investigation, clip or question); without one, every request is new."""
        if key and self.idempotency is not None:
            return self.idempotency.run(scope, key, body, task)
        return task()

    # -- supervision orders (督办单) ------------------------------------------------------------
    def issue_order(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        return self.once(f"order:{caller.actor}", idempotency_key, body,
                         lambda: self._issue_order(caller, body))

    def _issue_order(self, caller: Caller, body: dict) -> dict:
        """A supervisor orders a department to act on a case or a card by a deadline."""
        case_id, card = body.get("case_id"), body.get("card")
        text = text_of(body, "text", 2000)
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
            answering = {"window": found.get("window"), "staff_id": found.get("staff_id")}
        else:
            case = self.case(case_id)
            department = body.get("department") or self.responsible(case)
            hall, case_id = case.hall, case.case_id
            answering = self.handled_by(case).get(department) or {}
        if department not in self.catalog.departments:
            raise InvalidInput(f"no department {department!r}", field="department")
        self.scope.check(caller, hall, f"case {case_id}")
        days = body.get("limit_days", work.KINDS["order"].limit_days)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 30:
            raise InvalidInput("limit_days is a whole number of working days, 1 to 30",
                               field="limit_days")
        # Who answers for what is ordered, so that the order's own cards name them.
        subject = {"case_id": case_id, "text": text, **({"card": card} if card else {}),
                   **{k: answering.get(k) for k in ("window", "staff_id") if answering.get(k)}}
        task = self.open("order", department, hall, subject, caller, days)
        self.tell_department(task, f"【电子监察】督办单{task.task_id}：{text[:40]}，"
                                   f"请于{in_china_time(work.instant(task.deadline))}前答复。")
        return self.view(task)

    # -- department answers ---------------------------------------------------------------
    def answer(self, caller: Caller, task_id: str, body: dict) -> dict:
        self._raise_overtaken(task_id, caller)

        def change():
            task = self.task(task_id)
            if task.department != caller.principal:
                raise Forbidden(f"{task.title} {task_id} is addressed to department "
                                f"{task.department}, not to {caller.principal}", field="task_id")
            now = self.now()
            work.answer_task(task, body, caller.actor, now)    # the signed-in person
            self.tasks.save(task, self.record(task, "answered", caller, now,
                                              {"answer": task.answer["text"]}))
            return task
        task = retrying(change)
        if task.token:
            try:
                self.engine.deliver(task.token, {"outcome": "answered"})
            except Exception:  # noqa: BLE001 - the answer stands: the workflow's next
                # bounded wait asks again and is told then (on_task_message)
                from ...logs import logger

                logger.warning("task's answer left to the workflow's next wait", exc_info=True,
                               extra={"task_id": task.task_id})
        self.events.publish(events.TaskAnswered(
            task.task_id, task.kind, work.instant(task.answered_at),
            work.instant(task.opened_at), task.department, task.subject, task.answer))
        return self.view(task, reader="department")

    def of_department(self, caller: Caller, page: Page = Page()) -> dict:
        """The department's open supervised tasks, the longest waiting first, one page."""
        now = self.now()
        found, following = self.tasks.open_of_department(caller.principal, page)
        return {"tasks": [self.view(t, now, reader="department") for t in found],
                "next_cursor": following}

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
            record = self.record(task, f"supervision_{raised['kind']}", SYSTEM, self.now(),
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

    def _raise_overtaken(self, task_id: str, caller: Caller) -> None:
        """Before an answer: the instants that came by now and that the workflow has not
        reported yet (its timeout and the answer race; a busy engine fires late) are raised as
        its message would raise them, so an answer never overtakes its own escalation."""
        def change():
            task = self.task(task_id)
            if task.department != caller.principal:
                return None                    # refused by the answer itself
            now = self.now()
            timer = work.overtaken(task, now)
            if timer is None:
                return None
            task.emitted.append(timer["kind"])
            self.tasks.save(task, self.record(task, f"supervision_{timer['kind']}", SYSTEM,
                                              now, {"at": now.isoformat()}))
            return task, timer, now
        while (found := retrying(change)) is not None:
            task, timer, now = found
            self._raise(task, timer, now.isoformat())

    def _raise(self, task: work.SupervisedTask, timer: dict, at: str) -> None:
        light = work.TIMER_LIGHTS[timer["kind"]]
        card = events.Card(
            event_id=f"{task.task_id}#{timer['kind']}", case_id=task.task_id,
            case_no=task.subject.get("case_no"), task_id=task.task_id, task_kind=task.kind,
            kind=timer["kind"], light=light,
            card=light is not None and timer["kind"] != "yellow", scope="task",
            task=task.title, hall=task.hall,
            **people.named(self.catalog, task.department, task.subject.get("window"),
                           task.subject.get("staff_id")),
            deadline=task.deadline, planned_at=timer["at"], at=at)
        record = card.record()
        if not self.log.record(record):
            return
        if light:
            self.events.publish(events.TaskLightRaised(task.task_id, work.instant(at), record))
        self.tell_department(task, f"【电子监察】{task.title}{task.task_id}"
                                   f"{TIMER_WORDS[timer['kind']]}，"
                                   f"期限{in_china_time(work.instant(task.deadline))}。")

    # -- reads for supervisors ----------------------------------------------------------------
    def for_supervisor(self, caller: Caller, params: dict, page: Page = Page()) -> dict:
        """The supervised tasks of the office's halls, the newest opened first, one page;
        filter: kind. `count` is the tasks of this page."""
        halls = self.scope.halls_of(caller)
        kind = params.get("kind")
        if kind is not None and kind not in work.KINDS:
            raise InvalidInput(f"kind is one of {', '.join(sorted(work.KINDS))}", field="kind")
        now = self.now()
        found, following = self.tasks.of_halls(
            halls, page, keep=(lambda t: t.kind == kind) if kind else None)
        tasks = [self.view(t, now, unmasked=True) for t in found]
        return {"halls": sorted(halls), "count": len(tasks), "tasks": tasks,
                "next_cursor": following}

    def one_for_supervisor(self, caller: Caller, task_id: str) -> dict:
        task = self.task(task_id)
        self.scope.check(caller, task.hall, f"{task.title} {task_id}")
        # The head the task stores, read before its records: a deleted newest one is reported.
        records = self.tasks.trail(task_id)
        verdict = trail.verify(records, (task.trail_seq, task.trail_hash))
        return {**self.view(task, unmasked=True), "trail": [r.to_dict() for r in records],
                "verdict": verdict.to_dict()}

    def view(self, task: work.SupervisedTask, at: datetime | None = None,
             unmasked: bool = False, reader: str | None = None) -> dict:
        """The task as `reader` may see it: "owner" (who raised it: the complainant, the
        hotline's system, the office that ordered), "department" (who must answer it) or
        "office" (the supervision office over its hall; `unmasked=True`)."""
        reader = reader or ("office" if unmasked else "owner")
        view = task.to_dict()
        for internal in ("token", "token_since", "trail_hash", "version"):
            view.pop(internal)
        subject = view["subject"]
        # A complainant's contact (a visitor's verified phone) is shown in full only to the
        # supervision office over the task's hall, which investigates; every other view (the
        # complainant's own answer) shows it masked. Other contacts reach the handling
        # department through its own channel and are always masked.
        complainant = subject.get("complainant")
        if complainant and complainant.get("contact") and reader != "office":
            complainant["contact"] = mask_phone(complainant["contact"])
        if subject.get("contact"):
            subject["contact"] = mask_phone(subject["contact"])
        if reader == "department":
            # The department complained about sees what happened and the evidence, never who
            # complained: not the account, not the contact, not the case that would name them.
            subject.pop("complainant", None)
            if task.kind == "investigation":
                subject.pop("case_id", None)
                subject.pop("case_no", None)
                view["opened_by"] = "supervision"
        if reader != "owner":
            # Identity and mobile numbers typed into free text are masked for everyone but the
            # one who wrote them.
            for name in FREE_TEXT & subject.keys():
                if isinstance(subject[name], str):
                    subject[name] = mask_text(subject[name])
        return {**view, "title": task.title, "light": work.light(task, at or self.now())}

    # -- opening and recording --------------------------------------------------------------
    def open(self, kind: str, department: str, hall: str, subject: dict, caller: Caller,
             limit_days: int | None, task_id: str | None = None,
             first: tuple | list[tuple] | None = None) -> work.SupervisedTask:
        """`first`: the (action, data) record, or records, the trail holds right after
        `opened` (a complaint's evidence, one record per stored clip); an (action, data, by)
        record is credited to `by` (the system part that took it) instead of the caller."""
        now = self.now()
        task_id = task_id or new_id(PREFIXES[kind], now)
        task = work.open_task(task_id, kind, department, hall, subject, caller.actor, now,
                              self.clock, limit_days, self.catalog.policy(hall).yellow_share)
        record = self.record(task, "opened", caller, now,
                             {"kind": kind, "department": department,
                              "deadline": task.deadline})
        task.start_due = now.isoformat()
        for action, data, *by in ([first] if isinstance(first, tuple) else first or []):
            self.tasks.save(task, record)
            record = self.record(task, action, by[0] if by else caller, now, data)
        self.tasks.save(task, record)
        self.events.publish(events.TaskOpened(task_id, kind, now, department, hall))
        try:
            self.carry_out_start(task_id, task)
        except Exception:  # noqa: BLE001 - committed with the task: the sweeper starts it
            from ...logs import logger

            logger.warning("task's workflow start left to the sweeper", exc_info=True,
                           extra={"task_id": task_id})
        return task

    def resume(self, task_id: str) -> bool:
        """Starts an open task's workflow again, for an execution that is gone (the local stack
        keeps its tasks across restarts, not Step Functions' executions): the task's instants
        counted from now, so that one that fell due meanwhile is raised at once, and one raised
        already is not raised again. False when the task waits for nothing."""
        task = self.tasks.get(task_id) if isinstance(task_id, str) and task_id else None
        return self._start(task)

    def _start(self, task: work.SupervisedTask | None) -> bool:
        if task is None or task.status != work.OPEN:
            return False
        timers = waits(task.timers, self.now())
        self.engine.start(task.task_id, {"task_id": task.task_id, "timers": timers, "i": 0,
                                         "wait": timers[0], "bound": bound(self.clock)})
        return True

    def carry_out_start(self, task_id: str, task: work.SupervisedTask | None = None) -> bool:
        """Starts the task's workflow if its start is still pending, then forgets it (raises,
        leaving it pending, if the start fails). Starting twice is harmless: the execution is
        named after the task."""
        task = task or self.tasks.get(task_id)
        if task is None or not task.start_due:
            return False
        self._start(task)

        def forget():
            current = self.tasks.get(task_id)
            if current and current.start_due:
                current.start_due = None
                self.tasks.save(current)
        retrying(forget)
        return True

    def sweep_starts(self, grace_seconds: float = 20) -> dict:
        """The sweeper's share of supervised work: every start committed more than
        `grace_seconds` ago (the request that committed it has finished or failed by then) and
        still pending is carried out."""
        from ..outbox import sweep

        return sweep(self.catalog.halls, self.tasks.starts_due, self.carry_out_start,
                     self.now(), grace_seconds, "task's workflow start")

    def record(self, task, action: str, caller: Caller, at: datetime, data: dict):
        record = trail.append(task.task_id, task.trail_seq, task.trail_hash, action,
                              caller.actor, at.isoformat(), data)
        task.trail_seq, task.trail_hash = record.seq, record.hash
        return record

    def tell_department(self, task: work.SupervisedTask, text: str) -> None:
        dept = self.catalog.departments[task.department]
        chief = self.catalog.staff(dept["chief_representative"]["staff_id"])
        if chief and chief.phone:
            self.notifier.send(chief.phone, text)

    # -- lookups ---------------------------------------------------------------------------
    def responsible(self, case: Case) -> str:
        return self.catalog.items[case.item_code]["lead_department"]

    def handled_by(self, case: Case) -> dict[str, dict]:
        """The departments that handled the case (its acceptance and its stages' steps), each
        with the window and the staff member who answer for its part: who decided its last
        step, else whom the step was assigned to."""
        found: dict[str, dict] = {}
        for branch in sorted(self.cases.branches(case.case_id), key=lambda b: b.stage):
            if branch.kind == CASE:
                continue
            staff = people.staff_of_actor(branch.decided_by) or branch.staff_id
            found[branch.department] = {"window": branch.window, "staff_id": staff,
                                        "branch_id": branch.branch_id}
        return found

    def case(self, case_id) -> Case:
        """A case by its id, or by its 受理编号."""
        if is_case_number(case_id):
            case_id = self.cases.by_case_no(case_id) or case_id
        case = self.cases.get(case_id) if isinstance(case_id, str) and case_id else None
        if case is None:
            raise NotFound(f"no case {case_id!r}", field="case_id")
        return case

    def task(self, task_id) -> work.SupervisedTask:
        task = self.tasks.get(task_id) if isinstance(task_id, str) and task_id else None
        if task is None:
            raise NotFound(f"no supervised task {task_id!r}", field="task_id")
        return task

    def window(self, code) -> tuple[dict, dict]:
        for dept in self.catalog.departments.values():
            for window in dept["windows"]:
                if window["code"] == code:
                    return window, dept
        raise Unprocessable(f"there is no window {code!r}", field="window")


def new_id(prefix: str, now: datetime) -> str:
    return prefix + now.strftime("%Y%m%d") + secrets.token_hex(4).upper()


def text_of(body: dict, name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required text", field=name)
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    return value.strip()


def instant_of(body: dict, name: str) -> datetime:
    value = body.get(name)
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is an ISO 8601 instant with its offset, e.g. "
                           "2026-11-20T09:30:00+08:00", field=name)
    if at.tzinfo is None:
        raise InvalidInput(f"{name} needs its UTC offset, e.g. +08:00", field=name)
    return at
