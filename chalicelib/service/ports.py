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

    def update(self, case: Case, record: TrailRecord) -> None:
        """Stores the changed case and the trail record of the change, both or neither; fails
        with Conflict when someone else appended to the trail in between."""

    def by_applicant(self, id_number: str) -> list[Case]: ...

    def trail(self, case_id: str) -> list[TrailRecord]: ...

    def next_in_sequence(self, name: str) -> int: ...


class MaterialStore(Protocol):
    def upload_ticket(self, key: str, content_type: str, size: int, sha256_hex: str,
                      expires_in: int) -> dict:
        """A presigned upload that S3 accepts only with exactly this type, size and checksum."""

    def inspect(self, key: str) -> dict | None:
        """{size, content_type, sha256} of a stored object, or None when there is none."""


class Idempotency(Protocol):
    def run(self, scope: str, key: str, body: dict, work: Callable[[], dict]) -> dict:
        """Runs `work` once per (scope, key); a retry gets the first answer back."""
