"""What happens, as typed facts. The services publish them; whoever cares (the performance
counters, the violation rules, the auditors' log) is subscribed once, in chalicelib/bootstrap.py,
and reads named fields instead of a dict whose keys only the writer knew. Plain values: no I/O.

An event that cannot be what it says (a case completed early that was not on time, a card of
no colour) is a bug of the code that made it, so it fails where it is made (ValueError), not as
a citizen's 400 somewhere downstream.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

YELLOW, RED = "yellow", "red"
CHANNELS = ("online", "window", "agent")


@dataclass(frozen=True)
class Handler:
    """Who an event is counted against: a department, its window and staff member where known."""
    department: str
    window: str | None = None
    staff: str | tuple[str, ...] | None = None     # a staff id, or several


# -- cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseSubmitted:
    """申报: a case reached its accepting window (online, at a window, or by an agent point)."""
    case_id: str
    at: datetime
    channel: str
    handler: Handler

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"channel is one of {', '.join(CHANNELS)}, not {self.channel!r}")

    @property
    def once_id(self) -> str:
        """A case is submitted once: published again when its hand-over is carried out again,
        it is still counted once."""
        return f"{self.case_id}:submitted"


@dataclass(frozen=True)
class DocumentsDue:
    """A decision committed with the case calls for a document at once (a correction notice, a
    refusal): issued as the case's hand-overs are carried out, and again by the sweeper until it
    is (KMS or S3 down as the window decides loses nothing)."""
    case_id: str


@dataclass(frozen=True)
class BranchDecided:
    """A department decided its part of a case (or paused or resumed it): the case's recorded
    facts changed."""
    case_id: str
    branch_id: str
    decision: str


@dataclass(frozen=True)
class StageDecided:
    """Every department of a stage decided; `done` when the case is completed or refused."""
    case_id: str
    stage: int
    done: bool


@dataclass(frozen=True)
class CaseCompleted:
    """办结, once per department that took part: the lead on the whole case's promised limit,
    each other department on its own step's limit."""
    case_id: str
    at: datetime
    handler: Handler
    on_time: bool
    early: bool
    working_days: float
    lead: bool = True      # the lead department's, on the whole case's limit: the case itself

    def __post_init__(self):
        if self.early and not self.on_time:
            raise ValueError("a case completed early was completed on time")
        if self.working_days < 0:
            raise ValueError("working days used cannot be negative")

    @property
    def once_id(self) -> str:
        """A case completes once for each department: published again when its stage's
        message is handled again (a queue delivers at least once), it is counted once."""
        return f"{self.case_id}:completed:{self.handler.department}"


# -- lights and cards ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    """A supervision record raised by a workflow's own timer: a yellow light, a red card, an
    escalation, a reminder, a reprimand. Named after the people responsible, with their names,
    resolved when it is raised (chalicelib/domain/people.py); kept append-only in the
    supervision log."""
    event_id: str
    case_id: str
    kind: str                      # yellow, red, escalation:N, reminder, reprimand
    light: str | None              # yellow, red, or None for a notice without a light
    scope: str                     # case, step, task
    task: str
    hall: str
    department: str
    window: str | None
    staff_id: str | None
    staff_name: str | None
    chief_staff_id: str | None
    chief_name: str | None
    deadline: str | None
    planned_at: str
    at: str
    case_no: str | None = None
    branch_id: str | None = None   # a case's step
    stage: int | None = None
    task_id: str | None = None     # a supervised task
    task_kind: str | None = None
    card: bool | None = None       # a supervised task's timer says whether it is a card
    department_name: str | None = None
    window_name: str | None = None

    @property
    def delay_seconds(self) -> float:
        """How late the record came after its planned instant (the workflow's own timeout)."""
        return round((datetime.fromisoformat(self.at)
                      - datetime.fromisoformat(self.planned_at)).total_seconds(), 3)

    def record(self) -> dict:
        """As the supervision log keeps it (and the API shows it): the people's fields even when
        unknown, the case's or the task's own fields where they apply."""
        found = {k: v for k, v in asdict(self).items() if v is not None or k in ALWAYS_SHOWN}
        return {**found, "delay_seconds": self.delay_seconds}


ALWAYS_SHOWN = {"case_no", "light", "window", "staff_id", "staff_name", "chief_staff_id",
                "chief_name", "deadline", "department_name", "window_name"}


@dataclass(frozen=True)
class CardRaised:
    """A yellow or red card: by a workflow's timer, or found by a violation rule."""
    case_id: str
    at: datetime
    color: str
    handler: Handler
    record: dict                   # as the supervision log keeps it
    repeated: bool = False         # recorded before: raised again by a message handled again

    def __post_init__(self):
        if self.color not in (YELLOW, RED):
            raise ValueError(f"a card is yellow or red, not {self.color!r}")

    @property
    def once_id(self) -> str:
        """A card is counted once, however often the step that raised it runs again (its
        record's id in the supervision log)."""
        return f"{self.case_id}:card:{self.record['event_id']}"


@dataclass(frozen=True)
class TaskLightRaised:
    """A supervised task's timer raised its light (yellow, red, a reprimand, an escalation):
    recorded, notified, and its red cards counted (an order or a rectification overdue, a 12345
    reprimand, an investigation's or a consultation's red)."""
    task_id: str
    at: datetime
    record: dict

    @property
    def once_id(self) -> str:
        """A task's instant is raised once: counted once however often it is published."""
        return f"{self.task_id}:{self.record.get('kind')}"


# -- supervised work -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskOpened:
    """Supervised work opened: a 督办单 (order), an investigation, a rectification, a 12345
    request, a consultation."""
    task_id: str
    kind: str
    at: datetime
    department: str
    hall: str


@dataclass(frozen=True)
class TaskAnswered:
    task_id: str
    kind: str
    at: datetime
    opened_at: datetime
    department: str
    subject: dict                  # what the task was about
    answer: dict                   # the department's answer (text, publish, ...)


@dataclass(frozen=True)
class TaskOverdue:
    """Supervised work past its answer deadline (a 督办单, a rectification)."""
    task_id: str
    kind: str
    at: datetime
    department: str


@dataclass(frozen=True)
class ComplaintFiled:
    """投诉, about a window (with the camera's clip as evidence)."""
    task_id: str
    at: datetime
    handler: Handler


# -- ratings ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RatingGiven:
    """好差评: one rating per case; a re-rating replaces the earlier one where it was counted."""
    case_id: str
    at: datetime
    level: int
    handler: Handler
    replaces: tuple[int, datetime] | None = None     # (level, at) of the earlier rating
    by_default: bool = False
    # 好差评 of each department (national practice: the service and the department): the
    # departments the applicant rated, with their levels; the earlier rating's, when replaced.
    departments: tuple[tuple[str, int], ...] = ()
    replaces_departments: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        if self.level not in range(1, 6) or (self.replaces and self.replaces[0] not in range(1, 6)):
            raise ValueError("a rating level is 1 to 5")
        if any(level not in range(1, 6) for _, level in
               self.departments + self.replaces_departments):
            raise ValueError("a department's rating level is 1 to 5")

    @property
    def department_levels(self) -> dict[str, int]:
        """Whom the rating counts for, department by department: each department the applicant
        rated by its own level; where the applicant rated none, the handler's department (the
        lead) by the rating's level."""
        return dict(self.departments) or {self.handler.department: self.level}

    @property
    def replaced_department_levels(self) -> dict[str, int]:
        if not self.replaces:
            return {}
        return dict(self.replaces_departments) or {self.handler.department: self.replaces[0]}

    @property
    def once_id(self) -> str | None:
        """A case is rated by default once: published again when its batch is handled again
        (a queue delivers at least once), it is still counted once. An applicant's rating has
        no such id (a re-rating is counted as one)."""
        return f"{self.case_id}:rated_by_default" if self.by_default else None


@dataclass(frozen=True)
class RatingWithdrawn:
    """A 差评 struck out on appeal (恶意差评): taken out where it was counted."""
    case_id: str
    at: datetime
    level: int
    rated_at: datetime
    handler: Handler
    departments: tuple[tuple[str, int], ...] = ()    # as the rating had them (RatingGiven)

    @property
    def department_levels(self) -> dict[str, int]:
        return dict(self.departments) or {self.handler.department: self.level}


EVENTS = (CaseSubmitted, BranchDecided, StageDecided, CaseCompleted, CardRaised,
          TaskLightRaised, TaskOpened, TaskAnswered, TaskOverdue, ComplaintFiled, RatingGiven,
          RatingWithdrawn)

# What the performance counters count (chalicelib/domain/counting.py).
COUNTED = (CaseSubmitted, CaseCompleted, CardRaised, TaskLightRaised, TaskOpened, TaskAnswered,
           TaskOverdue, ComplaintFiled, RatingGiven, RatingWithdrawn)
