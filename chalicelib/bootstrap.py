"""Wires the service layer to its adapters, once per process and only when first needed."""
from __future__ import annotations

import os

_intake = None
_approval = None
_supervision = None
_performance = None


def working_clock():
    """The working-day calendar with the hall's own closure days (HALL_CLOSURES, ISO dates
    separated by commas, a deploy parameter); WORKDAY_SECONDS compresses one working day for
    demos."""
    from .domain.clock import clock_from_settings

    compressed = os.environ.get("WORKDAY_SECONDS")
    closures = [day for day in os.environ.get("HALL_CLOSURES", "").split(",")
                if day.strip() and day.strip() != "none"]
    return clock_from_settings(float(compressed) if compressed else None,
                               [day.strip() for day in closures])


def intake():
    global _intake
    if _intake is None:
        _wire()
    return _intake


def approval():
    global _approval
    if _approval is None:
        _wire()
    return _approval


def supervision():
    global _supervision
    if _supervision is None:
        _wire()
    return _supervision


def performance():
    global _performance
    if _performance is None:
        _wire()
    return _performance


def trail_audit(kind: str = "case"):
    """Verifies a case's (or a supervised task's) trail against its stored head and anchors."""
    from .adapters.anchors import S3Anchors
    from .adapters.dynamodb import DynamoCases, DynamoTasks, DynamoTrails
    from .service.trails import TrailAudit

    store = DynamoCases() if kind == "case" else DynamoTasks()

    def head(chain_id):
        found = store.get(chain_id)
        return (found.trail_seq, found.trail_hash) if found is not None else None
    return TrailAudit(head, DynamoTrails(), S3Anchors())


def anchoring():
    """The hourly anchoring of the trails' heads (only what that job needs is loaded)."""
    from datetime import datetime, timezone

    from .adapters.anchors import S3Anchors
    from .adapters.dynamodb import DynamoTrails
    from .service.trails import Anchoring

    return Anchoring(DynamoTrails(), S3Anchors(), lambda: datetime.now(timezone.utc))


def _wire():
    global _intake, _approval, _supervision, _performance
    from . import catalog
    from .adapters import aws, notifier
    from .adapters.cameras import KinesisVideoCameras
    from .adapters.dynamodb import (DynamoCases, DynamoCounters, DynamoFaqs, DynamoSupervision,
                                    DynamoTasks)
    from .adapters.evidence import S3Evidence, S3Reports
    from .adapters.idempotency import PowertoolsIdempotency
    from .adapters.s3 import S3Materials
    from .adapters.workflow import S3Certificates, StepFunctionsEngine
    from .service.approval import Approval
    from .service.intake import Intake, utc_now
    from .service.performance import Performance
    from .service.supervision import Supervision

    def store():
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(
            table_name=os.environ.get("IDEMPOTENCY_TABLE", "IdempotencyTable"),
            boto3_client=aws.client("dynamodb"))
    idempotency = PowertoolsIdempotency(store)
    published, cases, materials = catalog.published(), DynamoCases(), S3Materials()
    certificates = S3Certificates()
    _approval = Approval(published, cases, DynamoSupervision(), StepFunctionsEngine(),
                         notifier.from_environment(), certificates, idempotency, working_clock(),
                         utc_now, materials)
    _intake = Intake(published, cases, materials, idempotency, on_submitted=_approval.start,
                     certificates=certificates)
    _supervision = Supervision(
        published, cases, DynamoTasks(), _approval.supervision,
        StepFunctionsEngine(os.environ.get("TASK_WORKFLOW_ARN", "")), _approval.notifier,
        KinesisVideoCameras(), S3Evidence(), DynamoFaqs(), _approval.clock, utc_now)
    _performance = Performance(published, DynamoCounters(), S3Reports(), utc_now,
                               scope=_supervision.scope, cases=cases)
    _approval.count = _supervision.count = _performance.count
    _supervision.idempotency = idempotency
    from .adapters.dynamodb import DynamoVerifications
    _supervision.verifications = DynamoVerifications()   # visitors' codes
    _approval.watch = _supervision.watch_case


def use(intake_service, approval_service=None, supervision_service=None) -> None:
    """Replaces the wiring (tests with in-memory adapters)."""
    global _intake, _approval, _supervision
    _intake, _approval, _supervision = intake_service, approval_service, supervision_service
