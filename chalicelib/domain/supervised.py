"""Work that is not a case but is supervised like one (督办): supervision orders, complaint
investigations, rectifications of a 差评, 12345 hotline requests and online consultations.

Each has a handling deadline in working days. The workflow waits for the department's answer
and its own timeouts are what the rules say happens when the deadline is missed:
- a supervision order (督办单) unanswered at its deadline escalates (a red card, the chief
  representative and the supervisors told);
- a complaint investigation and a consultation turn yellow near their deadline, red at it;
- a rectification (整改) not reported by its deadline is a red card;
- a 12345 request gets a reminder the working day after a missed deadline and a reprimand
  (通报批评, a red card) when it is still open five working days later.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from .approval import DEFAULT_YELLOW_SHARE, RED_AFTER
from .clock import WORKING_DAYS, WorkingClock
from .errors import Conflict, InvalidInput
from .trail import GENESIS

OPEN, ANSWERED = "open", "answered"


@dataclass(frozen=True)
class Kind:
    """How one kind of supervised work is timed and what each missed instant raises."""
    title: str
    limit_days: int
    yellow: bool = False            # yellow at the hall's share of the limit
    reminder_days: int | None = None   # a reminder this many working days after the deadline
    reprimand_days: int | None = None  # a reprimand this many working days after the deadline
    red_card: bool = True           # red at the deadline itself


KINDS = {
    "order": Kind("督办单", 3, red_card=True),
    "investigation": Kind("投诉调查", 10, yellow=True),
    "rectification": Kind("差评整改", 10),
    "enquiry": Kind("12345咨询件", 3, red_card=False, reminder_days=1, reprimand_days=5),
    "hotline_complaint": Kind("12345投诉件", 13, red_card=False, reminder_days=1,
                              reprimand_days=5),
    "consultation": Kind("网上咨询", 3, yellow=True),
}
# What each missed instant is: a light on the task, and whether it is a card.
TIMER_LIGHTS = {"yellow": "yellow", "red": "red", "escalation": "red", "reminder": None,
                "reprimand": "red"}


@dataclass
class SupervisedTask:
    task_id: str
    kind: str
    department: str
    hall: str
    subject: dict                    # what it is about: case, card, complaint, request text
    opened_at: str
    opened_by: str
    limit_days: int
    deadline: str
    timers: list = field(default_factory=list)       # [{"kind", "at"}] in order
    status: str = OPEN
    answer: dict | None = None
    answered_at: str | None = None
    answered_by: str | None = None
    emitted: list = field(default_factory=list)
    token: str | None = None
    token_since: str | None = None
    # The workflow's start, committed with the task and cleared once carried out (the outbox
    # of supervised work: a start a fault left undone is carried out by the sweeper).
    start_due: str | None = None
    trail_seq: int = 0               # the task's own hash-chained trail, like a case's
    trail_hash: str = GENESIS
    version: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SupervisedTask":
        return cls(**data)

    @property
    def title(self) -> str:
        return KINDS[self.kind].title


def open_task(task_id: str, kind: str, department: str, hall: str, subject: dict,
              opened_by: str, at: datetime, clock: WorkingClock, limit_days: int | None = None,
              yellow_share: float = DEFAULT_YELLOW_SHARE,
              unit: str = WORKING_DAYS) -> SupervisedTask:
    """A new piece of supervised work with its deadline and the instants that watch it; its
    limit in working days unless the rule setting it says 日 (`unit`)."""
    spec = KINDS[kind]
    days = spec.limit_days if limit_days is None else limit_days
    clock = clock.in_unit(unit)
    due = clock.deadline(at, days)            # counted from the day after it opened
    timers = []
    if spec.yellow:
        timers.append({"kind": "yellow",
                       "at": clock.instant_of_share(at, due, yellow_share).isoformat()})
    if kind == "order":
        timers.append({"kind": "escalation", "at": (due + RED_AFTER).isoformat()})
    elif spec.red_card:
        timers.append({"kind": "red", "at": (due + RED_AFTER).isoformat()})
    if spec.reminder_days:
        timers.append({"kind": "reminder",
                       "at": clock.overdue_instant(due, spec.reminder_days).isoformat()})
    if spec.reprimand_days:
        timers.append({"kind": "reprimand",
                       "at": clock.overdue_instant(due, spec.reprimand_days).isoformat()})
    return SupervisedTask(task_id=task_id, kind=kind, department=department, hall=hall,
                          subject=subject, opened_at=at.isoformat(), opened_by=opened_by,
                          limit_days=days, deadline=due.isoformat(), timers=timers)


def fired(task: SupervisedTask, index: int) -> dict | None:
    """The instant a workflow timeout stands for; None once answered or already raised."""
    if not 0 <= index < len(task.timers):
        return None
    timer = task.timers[index]
    if timer["kind"] in task.emitted:
        return None
    if task.answered_at and instant(task.answered_at) < instant(timer["at"]):
        return None
    return timer


def overtaken(task: SupervisedTask, by: datetime) -> dict | None:
    """The first instant that came by `by` and was not raised yet: an answer after it, that
    ends the task before the workflow's late timeout reports it, raises it first."""
    if task.status == ANSWERED:
        return None
    return next((t for t in task.timers
                 if t["kind"] not in task.emitted and instant(t["at"]) <= by), None)


def answer_task(task: SupervisedTask, body: dict, actor: str, at: datetime) -> None:
    """The department's answer (办理结果 / 整改报告 / 答复): a text, once."""
    text = body.get("answer")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("answer is required: what was done, in words", field="answer")
    if len(text) > 4000:
        raise InvalidInput("answer is longer than 4000 characters", field="answer")
    if task.status == ANSWERED:
        raise Conflict(f"{task.title} {task.task_id} was answered already", field="task_id")
    task.status, task.answered_at, task.answered_by = ANSWERED, at.isoformat(), actor
    task.answer = {"text": text.strip(), **({"publish": True} if body.get("publish") else {})}


def light(task: SupervisedTask, at: datetime) -> str:
    """green / yellow / red as the supervision board shows it."""
    if task.status == ANSWERED:
        return "red" if instant(task.answered_at) > instant(task.deadline) else "green"
    if at > instant(task.deadline):
        return "red"
    if any(t["kind"] == "yellow" and instant(t["at"]) <= at for t in task.timers):
        return "yellow"
    return "green"


def instant(text: str) -> datetime:
    """An ISO instant as stored or as Step Functions writes it (with a `Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
