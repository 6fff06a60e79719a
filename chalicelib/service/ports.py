"""What the service layer needs from the outside world. Adapters implement these against AWS
(DynamoDB, S3) and in memory for fast tests."""
from __future__ import annotations

from typing import Callable, Protocol

from ..domain.cases import Case
from ..domain.trail import TrailRecord


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def create(self, case: Case, record: TrailRecord) -> None:
        """Stores a new case together with its first trail record, both or neither."""

    def update(self, case: Case, record: TrailRecord | list[TrailRecord], branches=(),
               answers=None) -> None:
        """Stores the changed case, the trail record of the change (or its records, chained in
        order) and any changed branches, all or nothing; fails with ConcurrentChange when
        someone else wrote in between.
        `answers` (by branch id) is what the case workflow reads from a branch's item when it
        is resumed (its LoadPlan state); a branch without one is stored without."""

    def save_branches(self, branches, answers=None) -> None:
        """Stores branches alone (a new task token), each at the version it was read at, with
        their `answers` as in update."""

    def branch(self, case_id: str, branch_id: str): ...

    def branches(self, case_id: str) -> list: ...

    def open_branches(self, department: str) -> list:
        """The department's branches waiting for its decision (its task list)."""

    def by_applicant(self, id_number: str) -> list[Case]: ...

    def by_case_no(self, case_no: str) -> str | None:
        """The id of the case numbered `case_no` (受理编号), or None."""

    def trail(self, case_id: str) -> list[TrailRecord]: ...

    def next_in_sequence(self, name: str) -> int: ...


class MaterialStore(Protocol):
    def upload_ticket(self, key: str, content_type: str, size: int, sha256_hex: str,
                      expires_in: int) -> dict:
        """A presigned upload that S3 accepts only with exactly this type, size and checksum."""

    def inspect(self, key: str) -> dict | None:
        """{size, content_type, sha256} of a stored object, or None when there is none."""

    def viewing_link(self, key: str, filename: str, content_type: str,
                     expires_in: int) -> dict:
        """{url, expires_in}: a presigned GET that opens the stored file in the browser."""


class SupervisionLog(Protocol):
    def record(self, event: dict) -> None:
        """Appends a supervision event; recording the same event again changes nothing."""

    def of_case(self, case_id: str) -> list[dict]: ...


class WorkflowEngine(Protocol):
    def start(self, name: str, payload: dict) -> None:
        """Starts the case workflow; a second start under the same name starts nothing."""

    def deliver(self, token: str, output: dict) -> bool:
        """Answers a waiting task; False when its token is no longer current."""


class Notifier(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class CertificateStore(Protocol):
    def put(self, code: str, document: dict) -> None: ...

    def get(self, code: str) -> dict | None: ...


class Idempotency(Protocol):
    def run(self, scope: str, key: str, body: dict, work: Callable[[], dict]) -> dict:
        """Runs `work` once per (scope, key); a retry gets the first answer back."""


class RealNameRegister(Protocol):
    """The real-name verification: whether a name and a resident identity number belong
    together. In the cloud an HTTPS verification service (chalicelib/adapters/realname.py);
    locally a demo register of fictional people (local/realname.py)."""

    def verify(self, name: str, id_number: str):
        """A domain.identity.Verdict; VerificationUnavailable when the register cannot answer."""


class IdentityBindings(Protocol):
    def of_number(self, id_number: str):
        """The domain.identity.Binding of a number, or None."""

    def number_of_account(self, account: str) -> str | None: ...

    def bind(self, binding) -> bool:
        """Binds the number to the account and the account to the number, both or neither;
        False (nothing written) when either is bound already."""


class RealNameAttempts(Protocol):
    def refused(self, account: str, day: str) -> int:
        """How many times the register refused this account on this China day."""

    def count_refusal(self, account: str, day: str) -> None: ...


class CitizenAccounts(Protocol):
    def set_verified(self, username: str, name: str, id_number: str) -> None:
        """Sets the account's verified name and identity number (the attributes its app
        client may not write)."""
