"""并联审批: after submission a case runs its stages in order, and inside a stage every deciding
department's branch at once. The first stage is acceptance (受理) at the window. Each branch runs
under its step clock, the whole case under its promised limit (承诺时限) from acceptance; the
supervision lights (docs/domain.md, "Lights, cards and violations") come from these clocks.
Plain rules, no I/O."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from .clock import WORKING_DAYS, StepClock, WorkingClock
from .errors import Conflict, Forbidden, InvalidInput, Unprocessable

ACCEPTANCE, DECISION, CASE = "acceptance", "decision", "case"
CASE_CLOCK = "case"                      # branch id of the whole case's clock
OPEN, PAUSED, DECIDED = "open", "paused", "decided"
GREEN, YELLOW, RED = "green", "yellow", "red"
DEFAULT_YELLOW_SHARE = 0.8
MAX_ESCALATIONS = 30                     # one per working day overdue, for six weeks
WAIT_FOREVER = 31_536_000                # what a paused clock waits for: only its resumption;
#                                          a year, the longest a standard execution lives
LONGEST_WAIT_DAYS = 7                    # no workflow task waits longer before asking again
EXTENSION_DAYS = 10                      # Licensing Law art. 42
RED_AFTER = timedelta(seconds=1)         # red one second after the deadline (Nanjing)
LATE_START = 0.6                         # seconds a plan's first light may miss before realigning

# What each kind of branch may decide, and what a decision does to it.
ACCEPTANCE_DECISIONS = ("accept", "refuse", "correction")
BRANCH_DECISIONS = ("approve", "deny", "correction", "special_start", "special_end",
                    "extension_request", "extension_approve")
FINAL = {"accept": "accepted", "refuse": "refused", "approve": "approved", "deny": "denied"}
NEEDS_REASONS = ("refuse", "deny")       # violation 5: refusal or denial without reasons
SPECIAL_PROCEDURES = ("听证", "专家评审", "检验", "检测", "检疫", "鉴定", "招标", "拍卖", "公示")


@dataclass
class Branch:
    case_id: str
    branch_id: str
    kind: str
    stage: int
    stage_name: str
    department: str
    task: str
    window: str | None
    staff_id: str | None
    chief_staff_id: str | None
    clock: dict                                   # StepClock.to_dict()
    status: str = OPEN
    pause_reason: str | None = None
    outcome: str | None = None
    reasons: str | None = None
    fee_yuan: float = 0.0
    decided_by: str | None = None
    decided_at: str | None = None
    plan: int = 0
    plan_timers: list = field(default_factory=list)   # [{"kind", "at"}] of the current plan
    emitted: list = field(default_factory=list)       # supervision kinds already raised
    token: str | None = None
    token_since: str | None = None
    correction: dict | None = None
    extension_request: dict | None = None
    special: dict | None = None
    history: list = field(default_factory=list)       # decisions in order
    calibrated: int = 0                               # the plan already realigned once
    decided_with: list = field(default_factory=list)  # "<actor> <Idempotency-Key>" of each
    version: int = 0                                  # optimistic concurrency in storage

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Branch":
        return cls(**data)

    @property
    def step_clock(self) -> StepClock:
        return StepClock.from_dict(self.clock)

    def with_clock(self, clock: StepClock) -> None:
        self.clock = clock.to_dict()


# -- lights and deadlines -----------------------------------------------------------------------
def deadline(branch: Branch, clock: WorkingClock) -> datetime | None:
    return branch.step_clock.deadline(clock)


def light(branch: Branch, clock: WorkingClock, at: datetime, yellow_share: float) -> str:
    """Green in time; yellow once the configured share has elapsed; red past the deadline."""
    step = branch.step_clock
    if step.is_overdue(clock, at):
        return RED
    return YELLOW if step.share(clock, at) >= yellow_share else GREEN


def supervision_instants(step: StepClock, clock: WorkingClock,
                         yellow_share: float) -> list[dict]:
    """When the supervision office must hear of this step: yellow at the share, red one second
    after the deadline, then an escalation for every further working day overdue."""
    if step.paused:
        return []
    due = step.deadline(clock)
    instants = [{"kind": "yellow", "at": step.instant_of_share(clock, yellow_share)},
                {"kind": "red", "at": due + RED_AFTER}]
    instants += [{"kind": f"escalation:{k}", "at": step.overdue_instant(clock, k) + RED_AFTER}
                 for k in range(1, MAX_ESCALATIONS + 1)]
    return instants


def replan(branch: Branch, clock: WorkingClock, yellow_share: float) -> None:
    """A new plan of timers: the supervision instants not yet raised (after a pause, its end, an
    extension or the start of the step)."""
    branch.plan += 1
    branch.plan_timers = [{"kind": i["kind"], "at": i["at"].isoformat()}
                          for i in supervision_instants(branch.step_clock, clock, yellow_share)
                          if i["kind"] not in branch.emitted]


def waits(timers: list[dict], now: datetime) -> list[int]:
    """The plan's instants as the workflow's waits in whole seconds, each counted from the end
    of the one before. Offsets are rounded from one origin, so rounding never adds up: every
    timeout lands within half a second of its instant (plus the engine's own latency)."""
    out, previous = [], 0
    for timer in timers:
        offset = max(previous + 1, round((datetime.fromisoformat(timer["at"]) - now)
                                         .total_seconds()))
        out.append(offset - previous)
        previous = offset
    return out + [WAIT_FOREVER]


def bound(clock: WorkingClock) -> dict:
    """The longest a workflow task waits before the workflow asks the functions again
    (statemachines/*.asl.json wait longer waits in parts of it): 7 days of real time, as long as
    7 working days take at the least (a compressed clock's demo seconds). `negated` is there
    because the workflow can only add."""
    seconds = max(1, round(clock.shortest_span(LONGEST_WAIT_DAYS).total_seconds()))
    return {"seconds": seconds, "negated": -seconds}


def late_start(branch: Branch, awaiting: dict) -> bool:
    """Whether the workflow began a plan's first wait so long after the plan was made that its
    first light would miss its instant by more than the half second rounding allows. Each plan
    is realigned at most once, so a slow engine cannot set off a chain of replans."""
    if awaiting.get("timer") != 0 or awaiting.get("plan") != branch.plan \
            or branch.calibrated == branch.plan or "wait" not in awaiting:
        return False
    timer = timer_kind(branch, branch.plan, 0)
    if timer is None:
        return False
    ends = datetime.fromisoformat(awaiting["since"]).timestamp() + float(awaiting["wait"])
    return abs(ends - datetime.fromisoformat(timer["at"]).timestamp()) > LATE_START


def answer(branch: Branch, now: datetime) -> dict:
    """What the workflow waiting on this branch must be told now: its outcome once decided,
    else the current plan (a paused branch's plan has no timers: it waits for its resumption)."""
    if branch.status == DECIDED:
        return {"outcome": branch.outcome}
    return {"outcome": "resumed", "plan": branch.plan, "timers": waits(branch.plan_timers, now)}


def overtaken(branch: Branch, by: datetime) -> list[tuple[int, dict]]:
    """The lights of the branch's plan (index, timer) whose instants came by `by` and that were
    not raised yet. A decision after such an instant raises them first: the workflow's timeout
    and a decision a moment later race, a busy engine fires late, and the decision ends the task
    whose next message would have reported the light."""
    return [(index, timer) for index, timer in enumerate(branch.plan_timers)
            if timer["kind"] not in branch.emitted and datetime.fromisoformat(timer["at"]) <= by]


def timer_kind(branch: Branch, plan_no: int, index: int) -> dict | None:
    """Which supervision instant a workflow timeout stands for (None if the plan is stale)."""
    if plan_no != branch.plan or not 0 <= index < len(branch.plan_timers):
        return None
    return branch.plan_timers[index]


# -- decisions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    decision: str
    staff_id: str
    reasons: str | None = None
    fee_yuan: float = 0.0
    materials: tuple = ()
    procedure: str | None = None
    note: str | None = None


def parse_decision(branch: Branch, body: dict, material_ids: list[str]) -> Decision:
    allowed = ACCEPTANCE_DECISIONS if branch.kind == ACCEPTANCE else BRANCH_DECISIONS
    decision = body.get("decision")
    if decision not in allowed:
        raise InvalidInput(f"decision must be one of {', '.join(allowed)} for this "
                           f"{branch.kind} step", field="decision")
    staff_id = body.get("staff_id")
    if not isinstance(staff_id, str) or not staff_id:
        raise InvalidInput("staff_id names the staff member who decides", field="staff_id")
    reasons = body.get("reasons")
    if decision in NEEDS_REASONS and (not isinstance(reasons, str) or len(reasons.strip()) < 4):
        raise Unprocessable(f"a decision to {decision} must give its reasons (at least four "
                            "characters)", field="reasons")
    fee = body.get("fee_yuan", 0)
    if isinstance(fee, bool) or not isinstance(fee, (int, float)) or not math.isfinite(fee) \
            or fee < 0 or fee > 1e7:
        raise InvalidInput("fee_yuan must be a non-negative amount in yuan", field="fee_yuan")
    materials: tuple = ()
    if decision == "correction":
        listed = body.get("materials")
        if not isinstance(listed, list) or not listed:
            raise Unprocessable("a correction notice lists every missing or faulty material at "
                                "once (一次性告知)", field="materials")
        unknown = [m for m in listed if m not in material_ids]
        if unknown:
            raise Unprocessable(f"the item asks for no material {', '.join(map(str, unknown))}",
                                field="materials")
        materials = tuple(dict.fromkeys(listed))
    procedure = body.get("procedure")
    if decision == "special_start" and procedure not in SPECIAL_PROCEDURES:
        raise InvalidInput(f"procedure must be one of {', '.join(SPECIAL_PROCEDURES)}",
                           field="procedure")
    note = body.get("note") if isinstance(body.get("note"), str) else None
    return Decision(decision, staff_id, reasons.strip() if isinstance(reasons, str) else None,
                    float(fee), materials, procedure, note)


def check_can_decide(branch: Branch, decision: Decision) -> None:
    if branch.status == DECIDED:
        raise Conflict(f"branch {branch.branch_id} was already decided: {branch.outcome}",
                       field="branch_id")
    paused_by = branch.pause_reason
    if decision.decision == "special_end":
        if paused_by != "special":
            raise Conflict("no special procedure is running on this branch", field="decision")
        return
    if branch.status == PAUSED:
        raise Conflict(f"the branch is paused for {paused_by}; it resumes when that ends",
                       field="decision")
    if decision.decision == "extension_approve":
        request = branch.extension_request
        if not request:
            raise Conflict("no extension was requested on this branch", field="decision")
        if request["staff_id"] == decision.staff_id:
            raise Forbidden("an extension is approved by a second, senior actor, not by the one "
                            "who asked for it", field="staff_id")
    if decision.decision == "extension_request" and branch.extension_request:
        raise Conflict("an extension is already awaiting approval", field="decision")


def apply(branch: Branch, decision: Decision, at: datetime, actor: str) -> str:
    """Applies a decision to the branch and says what the workflow must be told:
    'decided' (the branch ends), 'replan' (new timers: paused, resumed or extended) or 'none'."""
    step = branch.step_clock
    branch.history.append({"decision": decision.decision, "staff_id": decision.staff_id,
                           "at": at.isoformat(), "reasons": decision.reasons,
                           "fee_yuan": decision.fee_yuan})
    if decision.decision in FINAL:
        branch.status, branch.outcome = DECIDED, FINAL[decision.decision]
        branch.reasons, branch.fee_yuan = decision.reasons, decision.fee_yuan
        branch.decided_by, branch.decided_at = actor, at.isoformat()
        return "decided"
    if decision.decision == "correction":
        branch.with_clock(step.pause(at))
        branch.status, branch.pause_reason = PAUSED, "correction"
        branch.correction = {"materials": list(decision.materials), "note": decision.note,
                             "requested_at": at.isoformat(), "staff_id": decision.staff_id}
        return "replan"
    if decision.decision == "special_start":
        branch.with_clock(step.pause(at))
        branch.status, branch.pause_reason = PAUSED, "special"
        branch.special = {"procedure": decision.procedure, "started_at": at.isoformat()}
        return "replan"
    if decision.decision == "special_end":
        branch.with_clock(step.resume(at))
        branch.status, branch.pause_reason, branch.special = OPEN, None, None
        return "replan"
    if decision.decision == "extension_request":
        branch.extension_request = {"staff_id": decision.staff_id, "at": at.isoformat(),
                                    "note": decision.note}
        return "none"
    if decision.decision == "extension_approve":
        branch.with_clock(step.extend(EXTENSION_DAYS))
        branch.extension_request = None
        # A new deadline: its yellow and red are supervised afresh (the cards already raised stay
        # recorded; the light shows green again if the new deadline is ahead).
        branch.emitted = []
        return "replan"
    raise InvalidInput(f"unknown decision {decision.decision}", field="decision")


def end_correction(branch: Branch, at: datetime) -> None:
    branch.with_clock(branch.step_clock.resume(at))
    branch.status, branch.pause_reason = OPEN, None
    branch.correction = None


def stage_outcome(branches: list[Branch]) -> str:
    """A stage passes when every department approved; one denial denies the case."""
    outcomes = {b.outcome for b in branches}
    if "refused" in outcomes:
        return "refused"
    if "denied" in outcomes:
        return "denied"
    return "passed"


def is_final_stage(item: dict, stage: int) -> bool:
    return stage >= len(item["stages"])


def ends_case(item: dict, stage: int, outcome: str) -> bool:
    """A stage's outcome ends the case: the last stage passed, or any stage refused or denied."""
    return outcome != "passed" or is_final_stage(item, stage)


def new_clock(start: datetime, days: int, unit: str = WORKING_DAYS) -> dict:
    """A step's or the case's clock: `days` of `unit`, working days unless the law says 日."""
    return StepClock(start, days, unit=unit).to_dict()


def limit_unit(item: dict, branch: dict | None = None) -> str:
    """The unit of an item's promised limit, or of one department's step in a stage: what the
    step names, else the item's, else working days (Licensing Law art. 82)."""
    return (branch or {}).get("limit_unit") or item.get("limit_unit") or WORKING_DAYS
