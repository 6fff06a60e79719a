"""Parallel approval (并联审批) driven by the case workflow: starting it at submission, answering
its messages (a task waits, a limit ran out, a stage is decided), taking the departments'
decisions and the applicants' corrections, and completing the case with its e-certificate.

One class of about 500 lines, on purpose: starting a case, the workflow's messages and the
departments' decisions all move the same branches, their plans and the whole case's clock, and
each step's answer to the workflow depends on all three; split, each part would reach into the
others' helpers (replanning, delivering answers, telling the applicant)."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Callable

from ..domain import approval as rules
from ..domain import events
from ..domain import licences
from ..domain import rights
from ..domain import people
from ..domain import cases as case_rules
from ..domain.approval import ACCEPTANCE, CASE, DECISION, Branch
from ..domain.cases import Caller, Case, queue_summary
from ..domain.catalog import Catalog
from ..domain.clock import WORKING_DAYS, WorkingClock
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from ..domain.pages import Page
from .bus import Bus
from .intake import confirm_uploads, record_change, retrying

SYSTEM = Caller("system", "workflow")


class Approval:
    def __init__(self, catalog: Catalog, cases, supervision, engine, notifier, certificates,
                 idempotency, clock: WorkingClock, now: Callable[[], datetime], materials,
                 events: Bus | None = None):
        self.materials = materials
        self.catalog = catalog
        self.cases = cases
        self.supervision = supervision
        self.engine = engine
        self.notifier = notifier
        self.certificates = certificates
        self.idempotency = idempotency
        self.clock = clock
        self.now = now
        self.events = events if events is not None else Bus()   # what happens, published

    def yellow_share(self, case: Case) -> float:
        return self.catalog.policy(case.hall).yellow_share

    # -- starting ---------------------------------------------------------------------------
    def start(self, case: Case) -> None:
        """Submission hands the case to the workflow: first the accepting window (pre-review,
        at most the statutory 5 days), the whole-case clock idle until acceptance. Safe to call
        again: branches are created once, the execution is named after the case and the
        submission is counted once (its `once_id`)."""
        item = self.catalog.items[case.item_code]
        existing = {b.branch_id: b for b in self.cases.branches(case.case_id)}
        now = self.now()
        accept = existing.get("0:" + item["lead_department"]) or self._branch(
            case, ACCEPTANCE, 0, "受理", item["lead_department"], "受理（预审）",
            item["acceptance_limit_days"], datetime.fromisoformat(case.submitted_at))
        whole = existing.get(rules.CASE_CLOCK) or self._branch(
            case, CASE, -1, "承诺时限", item["lead_department"], item["name"],
            item["promised_limit_days"], now, branch_id=rules.CASE_CLOCK,
            unit=rules.limit_unit(item))
        if not existing:
            rules.replan(accept, self.clock, self.yellow_share(case))
            self.cases.update(case, record_change(case, "workflow_started", SYSTEM, now,
                                                  {"branches": [accept.branch_id]}),
                              branches=[accept, whole], answers=_answers([accept, whole], now))
            self._tell_applicant(case, "submitted")
        self.engine.start(case.case_id, {
            "case_id": case.case_id,
            "stage": {"done": False, "index": 0, "branches": [_plan_of(accept, now)]},
            "case_clock": {"branch_id": rules.CASE_CLOCK, "plan": 0, "i": 0,
                           "timers": [rules.WAIT_FOREVER], "wait": rules.WAIT_FOREVER},
            "bound": rules.bound(self.clock)})
        self.events.publish(events.CaseSubmitted(
            case.case_id, datetime.fromisoformat(case.submitted_at), case.channel,
            events.Handler(accept.department, accept.window, accept.staff_id)))

    def resume(self, case_id: str) -> bool:
        """Starts an open case's workflow again where the case stands, for an execution that is
        gone (the local stack keeps its cases across restarts, not Step Functions' executions):
        the current stage with its undecided branches, and the whole case's clock once accepted,
        each on a new plan of the instants not yet raised, counted from now; an instant that
        fell due meanwhile is raised at once. False when the case has no workflow to run."""
        case = self.cases.get(case_id)
        if case is None or case.status not in (case_rules.SUBMITTED, case_rules.ACCEPTED,
                                               case_rules.CORRECTION):
            return False
        branches = self.cases.branches(case_id)
        if not branches:                   # submitted, its workflow never started
            self.start(case)
            return True
        now = self.now()
        current = [b for b in branches if b.kind != CASE and b.stage == case.stage
                   and b.status != rules.DECIDED]
        whole = next((b for b in branches if b.kind == CASE), None)
        running = whole is not None and case.accepted_at is not None \
            and whole.status != rules.DECIDED
        replanned = current + ([whole] if running else [])
        for branch in replanned:
            rules.replan(branch, self.clock, self.yellow_share(case))
        self.cases.save_branches(replanned, _answers(replanned, now))
        timers = rules.waits(whole.plan_timers, now) if running else [rules.WAIT_FOREVER]
        self.engine.start(case.case_id, {
            "case_id": case.case_id,
            "stage": {"done": False, "index": case.stage,
                      "branches": [_plan_of(b, now) for b in current]},
            "case_clock": {"branch_id": rules.CASE_CLOCK, "plan": whole.plan if whole else 0,
                           "i": 0, "timers": timers, "wait": timers[0]},
            "bound": rules.bound(self.clock)})
        return True

    def _branch(self, case: Case, kind: str, stage: int, stage_name: str, department: str,
                task: str, days: int, start: datetime, branch_id: str | None = None,
                unit: str = WORKING_DAYS) -> Branch:
        dept = self.catalog.departments[department]
        window = self._window(case, dept, kind)
        post = "受理" if kind == ACCEPTANCE else "审核"
        staff = next((s for s in window["staff"] if s.get("post") == post), window["staff"][0])
        return Branch(case_id=case.case_id, branch_id=branch_id or f"{stage}:{department}",
                      kind=kind, stage=stage, stage_name=stage_name, department=department,
                      task=task, window=window["code"], staff_id=staff["staff_id"],
                      chief_staff_id=dept["chief_representative"]["staff_id"],
                      clock=rules.new_clock(start, days, unit))

    def _window(self, case: Case, dept: dict, kind: str) -> dict:
        """The window that handles the branch: the registering window for a walk-in's
        acceptance, else the department's window in the case's hall, else its first."""
        wanted = case.registered_by.get("window") if kind == ACCEPTANCE else None
        return next((w for w in dept["windows"] if w["code"] == wanted), None) \
            or next((w for w in dept["windows"] if w["hall"] == case.hall), dept["windows"][0])

    # -- workflow messages ------------------------------------------------------------------
    def on_workflow_message(self, message: dict) -> str:
        kind = message.get("type")
        handler = {"awaiting": self._awaiting, "timeout": self._timeout,
                   "stage_decided": self._stage_decided}.get(kind)
        if handler is None:
            return f"ignored: unknown message type {kind!r}"
        return retrying(lambda: handler(message))

    def _awaiting(self, message: dict) -> str:
        """The workflow waits on a branch with a new task token, kept by the system only. The
        wait after timer i > 0 begins the moment timer i - 1 ran out, so its message raises
        that light. If the branch was decided or replanned meanwhile, the answer went to a task
        that had just timed out (a decision racing a timeout): it goes to this task now."""
        fired = ""
        if message.get("timer", 0) > 0:
            fired = self._timeout({**message, "timer": message["timer"] - 1,
                                   "at": message["since"]}) + "; "
        return fired + self._keep_token(message)

    def _keep_token(self, message: dict) -> str:
        branch = self.cases.branch(message["case_id"], message["branch_id"])
        if branch is None:
            return "ignored: no such branch"
        # The same message again (its handling failed after the token was kept, before the
        # answer was given) goes on where it stopped; only an older wait is ignored.
        again = (message["since"], message["token"]) == (branch.token_since, branch.token)
        if branch.token_since and message["since"] <= branch.token_since and not again:
            return "ignored: an older task"
        if not again:
            branch.token, branch.token_since = message["token"], message["since"]
            if branch.status != rules.DECIDED and rules.late_start(branch, message):
                # The engine began waiting later than planned: the same instants, from now.
                rules.replan(branch, self.clock,
                             self.yellow_share(self.cases.get(branch.case_id)))
                branch.calibrated = branch.plan
            self.cases.save_branches([branch], _answers([branch], self.now()))
        if branch.status == rules.DECIDED or message["plan"] != branch.plan:
            self.engine.deliver(branch.token, rules.answer(branch, self.now()))
            return "answer delivered again"
        return "token kept"

    def _timeout(self, message: dict) -> str:
        """A limit ran out in the workflow: record the supervision event, append-only, and tell
        the staff, the chief representative and the supervisors. (Executions started before
        timeouts were folded into the next wait still send `timeout` messages of their own.)"""
        branch = self.cases.branch(message["case_id"], message["branch_id"])
        timer = rules.timer_kind(branch, message["plan"], message["timer"]) if branch else None
        if timer is None or timer["kind"] in branch.emitted:
            return "ignored: stale or repeated timer"
        if branch.decided_at and branch.decided_at < timer["at"]:
            return "ignored: decided before this instant"
        case = self.cases.get(branch.case_id)
        if branch.kind == CASE:
            # The case's last stage was decided in time and its completion is still on its way
            # (the stage's message queued behind this one): the whole case is not late.
            finished = self._decided_in_fact(case)
            if finished and finished < timer["at"]:
                return "ignored: decided before this instant"
        card = self._card(case, branch, message["plan"], message["timer"], timer, message["at"])
        # Recorded by a handling that failed before the branch noted it: counted now (once).
        self._log_card(card)
        branch.emitted.append(timer["kind"])
        self.cases.update(case, self._noted(case, branch, card), branches=[branch],
                          answers=_answers([branch], self.now()))
        self._tell(card)
        return timer["kind"]

    def _card(self, case: Case, branch: Branch, plan: int, index: int, timer: dict,
              at: str) -> dict:
        """The record of a light that came, named after its people; its event id is the plan
        and timer, as the workflow's message names them, so it is kept and counted once however
        often it is raised."""
        level = "yellow" if timer["kind"] == "yellow" else "red"
        due = rules.deadline(branch, self.clock)
        return events.Card(
            event_id=f"{branch.branch_id}#{plan}#{index}",
            case_id=case.case_id, case_no=case.case_no, kind=timer["kind"], light=level,
            scope="case" if branch.kind == CASE else "step", branch_id=branch.branch_id,
            stage=branch.stage, task=branch.task, hall=case.hall,
            **people.named(self.catalog, branch.department, branch.window, branch.staff_id,
                           branch.chief_staff_id),
            deadline=due.isoformat() if due else None, planned_at=timer["at"], at=at).record()

    def _log_card(self, card: dict) -> bool:
        """Keeps the card in the supervision log and counts it, each once (True the first
        time)."""
        new = self.supervision.record(card)
        if card["kind"] in ("yellow", "red"):
            self.events.publish(events.CardRaised(
                card["case_id"], datetime.fromisoformat(card["at"]), card["light"],
                events.Handler(card["department"], card["window"], card["staff_id"]), card,
                repeated=not new))
        return new

    def _noted(self, case: Case, branch: Branch, card: dict):
        """The light in the case's trail."""
        return record_change(case, f"supervision_{card['kind']}", SYSTEM, self.now(),
                             {"branch": branch.branch_id, "deadline": card["deadline"]})

    def _tell(self, card: dict) -> None:
        """Texts the light to the staff member and the chief representative."""
        yellow = card["light"] == "yellow"
        due = datetime.fromisoformat(card["deadline"]) if card["deadline"] else None
        text = (f"【电子监察】{'黄灯预警' if yellow else '红牌'}：办件{card['case_no']}"
                f"「{card['task']}」{'即将到期' if yellow else '已超时'}，"
                f"期限{in_china_time(due)}。")
        for staff_id in (card["staff_id"], card["chief_staff_id"]):
            person = self.catalog.staff(staff_id) if staff_id else None
            if person:
                self.notifier.send(person.phone, text)

    def _raise_due(self, branch: Branch, by: datetime) -> bool:
        """Raises, each in its own change, the lights of the branch's plan that came by `by`
        and that the workflow has not reported yet (see rules.overtaken), as the workflow's
        message would raise them. True if any was raised."""
        raised = False
        for index, _timer in rules.overtaken(branch, by):
            outcome = self._timeout({"case_id": branch.case_id, "branch_id": branch.branch_id,
                                     "plan": branch.plan, "timer": index,
                                     "at": self.now().isoformat()})
            raised = raised or not outcome.startswith("ignored")
        return raised

    def _decided_in_fact(self, case: Case) -> str | None:
        """When the case's current stage was decided, if that ends the case (the last stage
        passed, or any stage refused or denied); None while anything is left to decide."""
        if case.stage < 1:
            return None
        item = self.catalog.items[case.item_code]
        steps = [b for b in self.cases.branches(case.case_id)
                 if b.stage == case.stage and b.kind != CASE]
        if not steps or any(b.status != rules.DECIDED or not b.decided_at for b in steps):
            return None
        if not rules.ends_case(item, case.stage, rules.stage_outcome(steps)):
            return None
        return max(b.decided_at for b in steps)

    def _stage_decided(self, message: dict) -> str:
        """Records the stage (once: its answer is kept with the case) and answers the workflow.
        Its follow-up steps run every time the message is handled, so that a message handled
        again after a failure half-way (or asked again by the workflow) finishes them: the case
        clock's answer still pending is given, the completions are counted and the violation
        rules run, each idempotent (counted once by event id, a card recorded once)."""
        case = self.cases.get(message["case_id"])
        stage = int(message["stage"])
        answer = case.stage_answers.get(str(stage))
        if answer is None:
            finished = self._decided_in_fact(case)
            whole = self.cases.branch(case.case_id, rules.CASE_CLOCK)
            if finished and whole and whole.status != rules.DECIDED \
                    and self._raise_due(whole, datetime.fromisoformat(finished)):
                case = self.cases.get(case.case_id)
            answer = self._next_after(case, stage)
            case = self.cases.get(case.case_id)    # _next_after stored the answer
        elif case.handovers:
            self.carry_out(case.case_id, case)     # what the first handling left undone
        self.engine.deliver(message["token"], answer)
        # After the answer, so that the next stage's waits start when they were planned.
        if answer["done"]:
            self.events.publish(*self._completions(case, self.now()))
        self.events.publish(events.StageDecided(case.case_id, stage, answer["done"]))
        return "next stage" if not answer["done"] else "done"

    def _next_after(self, case: Case, stage: int) -> dict:
        item = self.catalog.items[case.item_code]
        decided = [b for b in self.cases.branches(case.case_id) if b.stage == stage]
        outcome = rules.stage_outcome(decided)
        now = self.now()
        changed: list[Branch] = []
        if stage == 0 and outcome == "passed":
            case.status, case.accepted_at = case_rules.ACCEPTED, now.isoformat()
            whole = self.cases.branch(case.case_id, rules.CASE_CLOCK)
            whole.clock = rules.new_clock(now, item["promised_limit_days"],
                                          rules.limit_unit(item))
            self._replan(case, whole, changed)
        if not rules.ends_case(item, stage, outcome):
            spec = item["stages"][stage]
            new = [self._branch(case, DECISION, stage + 1, spec["name"], b["department"],
                                b["task"], b["limit_days"], now, unit=rules.limit_unit(item, b))
                   for b in spec["departments"]]
            for branch in new:
                rules.replan(branch, self.clock, self.yellow_share(case))
            plans = [_plan_of(b, now) for b in new]
            changed += new
            case.stage = stage + 1
            answer = {"done": False, "index": stage + 1, "branches": plans}
            action, data = "stage_started", {"stage": stage + 1, "name": spec["name"],
                                             "departments": [b.department for b in new]}
        else:
            answer = {"done": True}
            action, data = self._complete(case, outcome, decided, now)
            whole = self.cases.branch(case.case_id, rules.CASE_CLOCK)
            if whole and whole.status != rules.DECIDED:
                whole.status, whole.outcome = rules.DECIDED, case.status
                changed.append(whole)
        case.stage_answers[str(stage)] = answer
        mark_deliveries(case, [b for b in changed if b.kind == CASE], now)
        self.cases.update(case, record_change(case, action, SYSTEM, now, data), branches=changed,
                          answers=_answers(changed, now))
        self.hand_over(case, changed)
        self._tell_applicant(case, action)
        return answer

    def _completions(self, case: Case, now: datetime) -> list[events.CaseCompleted]:
        """A completed case counts once for every department that took part: the lead on the
        whole case's promised limit (credited to its deciding window and staff), each other
        department on its own step's limit."""
        from ..domain.counting import completion_facts

        branches = self.cases.branches(case.case_id)
        lead = self.catalog.items[case.item_code]["lead_department"]
        whole = next((b for b in branches if b.kind == CASE), None)
        steps = {}
        for branch in sorted((b for b in branches if b.kind != CASE
                              and b.status == rules.DECIDED), key=lambda b: b.stage):
            steps[branch.department] = branch            # the latest step of each department
        completed = []
        for department, step in steps.items():
            clock = whole if department == lead and whole and case.accepted_at else step
            at = datetime.fromisoformat(step.decided_at) if step.decided_at else now
            staff = (step.decided_by or "").removeprefix("staff:") or step.staff_id
            completed.append(events.CaseCompleted(
                case.case_id, at, events.Handler(department, step.window, staff),
                **completion_facts(clock.step_clock, self.clock, at),
                lead=department == lead))
        return completed

    def _complete(self, case: Case, outcome: str, decided: list[Branch], now: datetime):
        """办结: granted with an e-certificate, or denied / refused with every reason given."""
        reasons = [{"department": b.department,
                    "department_name": self.catalog.departments[b.department]["name"],
                    "reasons": b.reasons} for b in decided if b.outcome in ("denied", "refused")]
        fees = sum(b.fee_yuan for b in self.cases.branches(case.case_id))
        case.completed_at = now.isoformat()
        if outcome == "refused":
            case.status = case_rules.REFUSED
            case.result = {"outcome": "refused", "reasons": reasons, "at": now.isoformat()}
            return "refused", {"reasons": reasons}
        case.status = case_rules.COMPLETED
        if outcome == "denied":
            case.result = {"outcome": "denied", "reasons": reasons, "at": now.isoformat(),
                           "fees_yuan": fees}
            return "completed", {"outcome": "denied", "reasons": reasons}
        code = secrets.token_hex(8).upper()
        item = self.catalog.items[case.item_code]
        # The e-licence (电子证照): held by its subject (the new company with its credit code,
        # or the person), issued by the lead department; its sealed PDF follows (documents).
        certificate = licences.issue(
            code, item, case.to_dict(), self.catalog.departments[item["lead_department"]], now,
            sorted({b.department for b in self.cases.branches(case.case_id)
                    if b.kind == DECISION}))
        self.certificates.put(code, certificate)
        case.result = {"outcome": "granted", "certificate": code, "at": now.isoformat(),
                       "fees_yuan": fees, "delivery": case.delivery}
        return "completed", {"outcome": "granted", "certificate": code,
                             "delivery": (case.delivery or {}).get("method")}

    # -- decisions by departments -----------------------------------------------------------
    def decide(self, caller: Caller, case_id: str, branch_id: str, body: dict,
               idempotency_key: str | None) -> dict:
        if not idempotency_key:
            raise InvalidInput("a decision needs an Idempotency-Key header",
                               field="Idempotency-Key")
        return self.idempotency.run(
            f"decide:{caller.actor}:{case_id}:{branch_id}", idempotency_key, body,
            lambda: retrying(lambda: self._decide(caller, case_id, branch_id, body,
                                                  f"{caller.actor} {idempotency_key}")))

    def _decide(self, caller: Caller, case_id: str, branch_id: str, body: dict,
                taken_with: str = "") -> dict:
        branch = self.cases.branch(case_id, branch_id)
        if branch is None or branch.kind == CASE:
            raise NotFound(f"case {case_id} has no branch {branch_id}", field="branch_id")
        if branch.department != caller.principal:
            raise Forbidden(f"branch {branch_id} belongs to department {branch.department}, "
                            f"not to {caller.principal}", field="branch_id")
        staff = rights.acting_staff(caller, body)        # the signed-in person, never the body's
        case = self.cases.get(case_id)
        if taken_with and taken_with in branch.decided_with:
            # A retry of a decision that was stored though its answer was not (the function
            # failed after the commit): the branch as it is, never "already decided".
            self.hand_over(case)
            return self.branch_view(case, branch, self.now())
        item = self.catalog.items[case.item_code]
        decision = rules.parse_decision(branch, {**body, "staff_id": staff.staff_id},
                                        [m["id"] for m in item["materials"]])
        rights.require(caller, rights.decision_right(branch.kind, decision.decision),
                       f"{decision.decision} on branch {branch_id}")
        rights.check_hall(caller, case.hall, self.catalog.halls_under(staff.hall),
                          f"case {case_id}")
        if decision.decision == "extension_approve":
            rights.check_not_own_request(branch.extension_request, caller)
        rules.check_can_decide(branch, decision)
        now = self.now()
        # The lights that came before this decision and that the workflow has not reported yet
        # (rules.overtaken) are raised with it: noted on the branch and in the trail in the
        # decision's own change, and kept and counted as its hand-overs, so that the change
        # stays as short as a decision's (five departments decide at once) and loses nothing.
        raised = [self._card(case, branch, branch.plan, index, timer, now.isoformat())
                  for index, timer in rules.overtaken(branch, now)]
        for card in raised:
            branch.emitted.append(card["kind"])
            case.handovers[CARD + card["event_id"]] = {"at": now.isoformat(), "card": card}
        effect = rules.apply(branch, decision, now, f"staff:{staff.staff_id}")
        if taken_with:
            branch.decided_with.append(taken_with)
        changed = [branch]
        if effect == "replan":
            rules.replan(branch, self.clock, self.yellow_share(case))
        if decision.decision == "correction":
            # One notice for the applicant (一次性告知), even when several departments ask.
            notice = case.correction or {"branches": [], "departments": [], "materials": [],
                                         "notes": [], "requested_at": now.isoformat()}
            notice["branches"].append(branch.branch_id)
            notice["departments"].append(branch.department)
            notice["materials"] = list(dict.fromkeys(notice["materials"]
                                                     + list(decision.materials)))
            if decision.note:
                notice["notes"].append(decision.note)
            case.status, case.correction = case_rules.CORRECTION, notice
        self._follow_case_clock(case, branch, decision.decision, now, changed)
        data = {"branch": branch_id, "decision": decision.decision, "staff_id": staff.staff_id,
                "fee_yuan": decision.fee_yuan}
        if decision.reasons:
            data["reasons"] = decision.reasons
        if decision.materials:
            data["materials"] = list(decision.materials)
        if effect != "none":
            mark_deliveries(case, changed, now)
        if decision.decision in ISSUED_AT_ONCE:
            case.handovers[ISSUE] = {"at": now.isoformat()}
        notes = [self._noted(case, branch, card) for card in raised]
        self.cases.update(case, notes + [record_change(case, f"decision_{decision.decision}",
                                                       caller, now, data)],
                          branches=changed, answers=_answers(changed, now))
        self.hand_over(case, changed)
        if decision.decision == "correction":
            self._tell_applicant(case, "correction_requested")
        self.events.publish(events.BranchDecided(case_id, branch_id, decision.decision))
        return self.branch_view(case, self.cases.branch(case_id, branch_id), now)

    def _follow_case_clock(self, case: Case, branch: Branch, decision: str, now: datetime,
                           changed: list) -> None:
        """A pause of a step (correction, special procedure) pauses the whole case's clock too;
        it runs again when no step is paused any more. An extension extends both."""
        whole = self.cases.branch(case.case_id, rules.CASE_CLOCK)
        if whole is None or case.accepted_at is None or whole.status == rules.DECIDED:
            return
        step = whole.step_clock
        # The branches as they stand after this change: the stored ones, overridden by those
        # changed in memory (answering a merged correction notice resumes several at once).
        current = {b.branch_id: b for b in self.cases.branches(case.case_id)}
        current.update({b.branch_id: b for b in changed})
        others_paused = any(b.status == rules.PAUSED for b in current.values()
                            if b.branch_id not in (branch.branch_id, rules.CASE_CLOCK))
        if branch.status == rules.PAUSED and not step.paused:
            whole.with_clock(step.pause(now))
        elif branch.status != rules.PAUSED and step.paused and not others_paused:
            whole.with_clock(step.resume(now))
        elif decision == "extension_approve":
            whole.with_clock(step.extend(rules.EXTENSION_DAYS))
            whole.emitted = []
        else:
            return
        self._replan(case, whole, changed)

    def _replan(self, case: Case, branch: Branch, changed: list) -> None:
        rules.replan(branch, self.clock, self.yellow_share(case))
        changed.append(branch)

    # -- hand-overs to the workflow (the outbox) ----------------------------------------------
    # What the workflow must be told of a change (start the case's execution; a decision or a
    # new plan for a waiting task) is committed with the change itself, in the case's item
    # (`handovers`), and carried out at once; what a fault (Step Functions, DynamoDB or the
    # function itself failing) leaves pending the sweeper carries out (app.py's
    # hand_over_cases, every minute), again and again until it is done. Carrying one out twice
    # is harmless: the execution is named after the case, the branches are created once, the
    # submission is counted once, and an answer goes only to the task it was meant for.
    def hand_over(self, case: Case, branches: list[Branch] = ()) -> None:
        """Carries out now what `case` committed for the workflow; a failure leaves it pending
        for the sweeper and never undoes the change that committed it."""
        if not case.handovers:
            return
        try:
            self.carry_out(case.case_id, case, branches)
        except Exception:  # noqa: BLE001 - the sweeper carries it out once the fault is over
            from ..logs import logger

            logger.warning("hand-over left to the sweeper", exc_info=True,
                           extra={"case_id": case.case_id, "handovers": sorted(case.handovers)})

    def carry_out(self, case_id: str, case: Case | None = None,
                  branches: list[Branch] = ()) -> list[str]:
        """Carries out the case's pending hand-overs, then forgets them (raises, leaving them
        pending, if one fails). `case` and `branches`, as just written, spare reading them."""
        case = case or self.cases.get(case_id)
        if case is None or not case.handovers:
            return []
        pending, done = dict(case.handovers), {}
        try:
            if START in pending:
                read = [case]
                retrying(lambda: self.start(read.pop() if read else self.cases.get(case_id)))
                done[START] = pending[START]
            known = {b.branch_id: b for b in branches}
            for key, handover in sorted(pending.items()):
                if key.startswith(DELIVER):
                    branch_id = key[len(DELIVER):]
                    branch = known.get(branch_id) or self.cases.branch(case_id, branch_id)
                    # Only to the task it was meant for: a later task's own `awaiting` message
                    # finds the branch decided or replanned and tells it (_keep_token).
                    if branch and branch.token and branch.token_since == handover["since"]:
                        self.engine.deliver(branch.token, rules.answer(branch, self.now()))
                    done[key] = handover
            for key, handover in sorted(pending.items()):
                if key.startswith(CARD):
                    # A light a decision overtook: kept and counted once, texted once.
                    if self._log_card(handover["card"]):
                        self._tell(handover["card"])
                    done[key] = handover
            if ISSUE in pending:
                # After the workflow's answers: a seal that fails delays no department.
                self.events.publish(events.DocumentsDue(case_id))
                done[ISSUE] = pending[ISSUE]
        finally:
            # What was carried out is forgotten even when a later one failed.
            if done:
                retrying(lambda: self.cases.clear_hand_overs(case_id, done))
        return sorted(pending)

    def sweep(self, grace_seconds: float = 20) -> dict:
        """The sweeper: every hand-over committed more than `grace_seconds` ago (the request
        that committed it has finished or failed by then) and still pending is carried out."""
        from .outbox import sweep

        return sweep(self.catalog.halls, self.cases.due_hand_overs, self.carry_out, self.now(),
                     grace_seconds, "hand-over")

    def _deliver(self, branches: list[Branch]) -> None:
        """Tells each branch's current task its answer. If that task timed out a moment ago the
        answer is lost with its token, and the next task's `awaiting` message delivers it."""
        now = self.now()
        for branch in branches:
            if branch.token:
                self.engine.deliver(branch.token, rules.answer(branch, now))

    # -- corrections by applicants ----------------------------------------------------------
    def correct(self, caller: Caller, case_id: str, body: dict,
                idempotency_key: str | None) -> dict:
        if not idempotency_key:
            raise InvalidInput("submitting corrections needs an Idempotency-Key header",
                               field="Idempotency-Key")
        return self.idempotency.run(
            f"correct:{caller.actor}:{case_id}", idempotency_key, body,
            lambda: retrying(lambda: self._correct(caller, case_id)))

    def _correct(self, caller: Caller, case_id: str) -> dict:
        case = self.cases.get(case_id)
        if case is None or case.applicant.get("id_number") != caller.id_number:
            raise NotFound(f"no case {case_id} in your account", field="case_id")
        if case.status != case_rules.CORRECTION:
            raise Conflict(f"case {case.case_no} has no open correction notice", field="case_id")
        notice = case.correction
        problems = confirm_uploads(self.materials, case)
        if problems:
            raise Unprocessable("corrected materials do not match their announcements",
                                field="materials", problems=problems)
        missing = [m for m in notice["materials"]
                   if case.materials.get(m, {}).get("status") != "received"
                   or case.materials[m].get("announced_at", "") < notice["requested_at"]]
        if missing:
            raise Unprocessable("the correction notice asks for new uploads of "
                                + ", ".join(missing), field="materials")
        now = self.now()
        changed = []
        for branch_id in notice["branches"]:
            branch = self.cases.branch(case_id, branch_id)
            rules.end_correction(branch, now)
            rules.replan(branch, self.clock, self.yellow_share(case))
            changed.append(branch)
        case.status = case_rules.ACCEPTED if case.accepted_at else case_rules.SUBMITTED
        case.correction = None
        self._follow_case_clock(case, changed[-1], "corrected", now, changed)
        mark_deliveries(case, changed, now)
        self.cases.update(case, record_change(case, "corrected", caller, now,
                                              {"branches": notice["branches"],
                                               "materials": notice["materials"]}),
                          branches=changed, answers=_answers(changed, now))
        self.hand_over(case, changed)
        return self.case_view(self.cases.get(case_id), now)

    # -- reading ----------------------------------------------------------------------------
    def branch_view(self, case: Case, branch: Branch, at: datetime) -> dict:
        due = rules.deadline(branch, self.clock)
        step = branch.step_clock
        return {"branch_id": branch.branch_id, "kind": branch.kind, "stage": branch.stage,
                "stage_name": branch.stage_name, "department": branch.department,
                "department_name": self.catalog.departments[branch.department]["name"],
                # who handles it in this hall: the county bureau, station or street office
                "body_name": self.catalog.body(branch.department, case.hall),
                "task": branch.task, "window": branch.window, "staff_id": branch.staff_id,
                "status": branch.status, "pause_reason": branch.pause_reason,
                "outcome": branch.outcome, "reasons": branch.reasons,
                "fee_yuan": branch.fee_yuan, "started_at": step.start.isoformat(),
                "limit_days": step.limit, "limit_unit": step.unit,
                "deadline": due.isoformat() if due else None,
                "light": None if branch.status == rules.DECIDED else
                rules.light(branch, self.clock, at, self.yellow_share(case)),
                "extension_requested": bool(branch.extension_request),
                "correction": branch.correction, "special": branch.special,
                "decided_at": branch.decided_at}

    def case_view(self, case: Case, at: datetime | None = None) -> dict:
        at = at or self.now()
        branches = sorted(self.cases.branches(case.case_id), key=lambda b: (b.stage, b.branch_id))
        events = self.supervision.of_case(case.case_id)
        return {"stages": [self.branch_view(case, b, at) for b in branches if b.kind != CASE],
                "case_clock": next((self.branch_view(case, b, at) for b in branches
                                    if b.kind == CASE and case.accepted_at), None),
                "supervision": [e for e in events if not e["kind"].startswith("violation:")],
                "violations": [e for e in events if e["kind"].startswith("violation:")]}

    def progress(self, case_id: str) -> dict:
        return self.case_view(self.cases.get(case_id))

    def tasks(self, caller: Caller, page: Page = Page()) -> dict:
        """The department's queue, the longest waiting first, one page at a time: one query of
        its open branches, each with what it keeps of its case (a branch stored before it kept
        that has its case read)."""
        from types import SimpleNamespace

        now = self.now()
        found = []
        branches, following = self.cases.open_branches(caller.principal, page)
        for branch, case in branches:
            if case is None:
                case = queue_summary(self.cases.get(branch.case_id))
            # The light needs only the case's hall (its policy's yellow share).
            view = self.branch_view(SimpleNamespace(hall=case["hall"]), branch, now)
            found.append({**view, "case_id": branch.case_id,
                          "case_no": case["case_no"], "item_code": case["item_code"],
                          "item_name": self.catalog.items[case["item_code"]]["name"],
                          "applicant": case["applicant"], "case_status": case["status"]})
        return {"tasks": found, "next_cursor": following}

    def _tell_applicant(self, case: Case, action: str) -> None:
        phone = case.applicant.get("phone")
        words = {"stage_started": "已进入审批环节", "completed": "已办结", "refused": "不予受理",
                 "correction_requested": "需补正材料"}
        if phone and action == "submitted" and case.query_code:
            # The receipt's two keys, for the progress lookup without signing in.
            self.notifier.send(phone, f"【政务服务】您的申请已提交，受理编号{case.case_no}，"
                                      f"查询码{case.query_code}，可在网上办事大厅“办件查询”"
                                      "查看进度。")
        elif phone and action in words:
            self.notifier.send(phone, f"【政务服务】您的办件{case.case_no}{words[action]}，"
                                      "详情请登录网上办事大厅查看。")


# The hand-overs a case may hold: its workflow to start (committed by intake's submission),
# a branch's task to tell its answer.
START, DELIVER, ISSUE, CARD = "start", "deliver:", "documents", "card:"
# Decisions whose document the applicant is handed at once, sealed as the decision is answered:
# the correction notice (补正材料通知书). A refusal's is issued as the stage ends the case.
ISSUED_AT_ONCE = ("correction",)


def mark_deliveries(case: Case, branches: list[Branch], at: datetime) -> None:
    """Each branch's current task (the one its token belongs to) is to be told its answer."""
    for branch in branches:
        if branch.token:
            case.handovers[DELIVER + branch.branch_id] = {"at": at.isoformat(),
                                                          "since": branch.token_since}


def _plan_of(branch: Branch, now: datetime) -> dict:
    """A branch as the workflow's Map item: its id and the waits of its current plan."""
    return {"branch_id": branch.branch_id, "plan": branch.plan,
            "timers": rules.waits(branch.plan_timers, now)}


def _answers(branches: list[Branch], now: datetime) -> dict:
    """What the workflow reads from each branch's item when it is resumed (LoadPlan in
    statemachines/case.asl.json): the plan as of now, by branch id; a decided branch, none."""
    return {b.branch_id: rules.answer(b, now) for b in branches if b.status != rules.DECIDED}


def in_china_time(at: datetime | None) -> str:
    return at.astimezone(case_rules.CHINA_TIME).strftime("%Y-%m-%d %H:%M") if at else "—"
