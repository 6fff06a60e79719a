"""Errors the rules raise. Each names what was wrong and why, so the edge can answer with a
precise 4xx instead of a generic failure."""
from __future__ import annotations

from dataclasses import dataclass, field as _field


@dataclass
class FieldProblem:
    field: str
    reason: str
    title: str | None = None

    def to_dict(self) -> dict:
        out = {"field": self.field, "reason": self.reason}
        if self.title:
            out["title"] = self.title
        return out


@dataclass
class DomainError(Exception):
    message: str
    field: str | None = None
    problems: list[FieldProblem] = _field(default_factory=list)

    status = 400
    code = "BadRequest"

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        out: dict = {"error": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
        return out


class InvalidInput(DomainError):
    status = 400
    code = "InvalidInput"


class Unprocessable(DomainError):
    """Well-formed, but breaks a rule of the item (form schema, materials)."""
    status = 422
    code = "Unprocessable"


class NotFound(DomainError):
    status = 404
    code = "NotFound"


class Forbidden(DomainError):
    status = 403
    code = "Forbidden"


class Conflict(DomainError):
    status = 409
    code = "Conflict"


class ConcurrentChange(Conflict):
    """Someone else changed the case between our read and our write."""
