"""Wires the service layer to its adapters, once per process and only when first needed."""
from __future__ import annotations

_settings = None
_intake = None
_approval = None
_supervision = None
_performance = None
_documents = None
_staff_sign_ins = None
_real_names = None
_register = None
_lambda_context = None
_cursors = None


def lambda_context_from(provider) -> None:
    """How the running invocation's Lambda context is found (app.py: the one Chalice was
    handed). Idempotency records of a request expire with the invocation (its remaining time),
    so a request stopped by the function's timeout does not keep its key blocked for a day."""
    global _lambda_context
    _lambda_context = provider


def lambda_context():
    """The running invocation's Lambda context, or None outside one."""
    return _lambda_context() if _lambda_context is not None else None


def settings():
    """The environment, read once (chalicelib/settings.py): a missing name fails here."""
    global _settings
    if _settings is None:
        from .adapters.dynamodb import MODELS, bind
        from .settings import Settings

        _settings = Settings.from_environment()
        bind(MODELS, _settings)        # every table as the settings name it
    return _settings


def cursors():
    """The lists' cursors (chalicelib/domain/pages.py), signed with the stack's key: the secret
    the settings name (CURSOR_KEY_SECRET), read from Secrets Manager once per process."""
    global _cursors
    if _cursors is None:
        from .adapters import aws
        from .domain.pages import Cursors

        secret = aws.client("secretsmanager").get_secret_value(
            SecretId=settings().cursor_key_secret)
        _cursors = Cursors(secret["SecretString"])
    return _cursors


def use_cursors(cursors_) -> None:
    """Replaces the cursors' signer (tests with a key of their own)."""
    global _cursors
    _cursors = cursors_


def working_clock():
    """The working-day calendar with the halls' own closure days; a compressed one for demos."""
    from .domain.clock import clock_from_settings

    return clock_from_settings(settings().workday_seconds, settings().hall_closures)


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


def documents():
    """Sealed documents and e-licences (service/documents.py)."""
    global _documents
    if _documents is None:
        _wire()
    return _documents


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


def real_names():
    """The real-name step: the register, the bindings table, the user pool's accounts."""
    global _real_names
    if _real_names is None:
        from .adapters import realname
        from .adapters.accounts import CognitoAccounts
        from .adapters.dynamodb import DynamoBindings, DynamoRealNameAttempts
        from .service.intake import utc_now
        from .service.realnames import RealNames

        _real_names = RealNames(_register or realname.from_environment(), DynamoBindings(),
                                CognitoAccounts(settings().citizen_pool_arn),
                                DynamoRealNameAttempts(), utc_now)
    return _real_names


def lookup_attempts():
    """The progress lookup's wrong query codes, per number and per address and China day."""
    from .adapters.dynamodb import DynamoRealNameAttempts

    return DynamoRealNameAttempts("lookup")


def use_real_name_register(register) -> None:
    """The register the real-name step asks (the local stack's demo register of fictional
    people, local/realname.py); the deployed functions read theirs from the environment."""
    global _register, _real_names
    _register, _real_names = register, None


def catalog():
    """The published service guide and staff directory."""
    from . import catalog as published

    return published.published()


def staff_sign_ins():
    """Staff sign-ins: which identity pool's credentials are staff members', and which staff
    member each sign-in is (StaffAccountsTable, read on every signed-in request)."""
    global _staff_sign_ins
    if _staff_sign_ins is None:
        from .adapters.dynamodb import DynamoStaffAccounts
        from .adapters.identity import StaffSignIns

        config = settings()              # binds the table
        _staff_sign_ins = StaffSignIns(DynamoStaffAccounts(), config.staff_identity_pool,
                                       config.staff_sign_in_provider)
    return _staff_sign_ins


def use_staff_sign_ins(sign_ins) -> None:
    """Replaces the staff sign-ins (tests with in-memory bindings)."""
    global _staff_sign_ins
    _staff_sign_ins = sign_ins


def trail_audit(kind: str = "case"):
    """Verifies a case's (or a supervised task's) trail against its stored head and anchors."""
    from .adapters.anchors import S3Anchors
    from .adapters.dynamodb import DynamoCases, DynamoTasks, DynamoTrails
    from .service.trails import TrailAudit

    store = DynamoCases() if kind == "case" else DynamoTasks()

    def head(chain_id):
        found = store.get(chain_id)
        return (found.trail_seq, found.trail_hash) if found is not None else None
    return TrailAudit(head, DynamoTrails(), S3Anchors(settings().evidence_bucket))


def anchoring():
    """The hourly anchoring of the trails' heads (only what that job needs is loaded)."""
    from datetime import datetime, timezone

    from .adapters.anchors import S3Anchors
    from .adapters.dynamodb import DynamoTrails
    from .service.trails import Anchoring

    return Anchoring(DynamoTrails(), S3Anchors(settings().evidence_bucket),
                     lambda: datetime.now(timezone.utc))


def queue(name: str):
    """A queue the scheduled jobs and their handlers hand shares to: `ratings`, `exports` or
    `counting` (chalicelib/adapters/queues.py)."""
    from .adapters.queues import SqsQueue

    return SqsQueue(getattr(settings(), f"{name}_queue_url"))


def _wire():
    global _intake, _approval, _supervision, _performance, _documents
    from . import catalog
    from .adapters import aws, mail, notifier
    from .adapters.cameras import KinesisVideoCameras
    from .adapters.dynamodb import (DynamoCases, DynamoCounters, DynamoFaqs, DynamoSupervision,
                                    DynamoTasks, DynamoVerifications)
    from .adapters.evidence import S3Evidence, S3Reports
    from .adapters.idempotency import PowertoolsIdempotency
    from .adapters.queues import SqsQueue
    from .adapters.documents import S3Documents
    from .adapters.s3 import S3Materials
    from .adapters.seal import KmsSealKey, Seal
    from .adapters.workflow import S3Certificates, StepFunctionsEngine
    from .service.approval import Approval
    from .service.bus import Bus
    from .service.documents import Documents
    from .service.intake import Intake, utc_now
    from .service.performance import Performance
    from .service.supervision import Supervision
    from datetime import timedelta

    config = settings()

    def store():
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=config.idempotency_table,
                                        boto3_client=aws.client("dynamodb"))
    bus = Bus()
    idempotency = PowertoolsIdempotency(store, lambda_context)
    published, cases, clock = catalog.published(), DynamoCases(), working_clock()
    materials = S3Materials(config.materials_bucket)
    certificates = S3Certificates(config.certificates_bucket)
    texts, log = notifier.from_environment(), DynamoSupervision()
    _approval = Approval(published, cases, log, StepFunctionsEngine(config.case_workflow_arn),
                         texts, certificates, idempotency, clock, utc_now, materials,
                         events=bus)
    _intake = Intake(published, cases, materials, idempotency,
                     on_submitted=_approval.hand_over, certificates=certificates)
    _supervision = Supervision(
        published, cases, DynamoTasks(), log, StepFunctionsEngine(config.task_workflow_arn),
        texts, KinesisVideoCameras(), S3Evidence(config.evidence_bucket), DynamoFaqs(), clock,
        utc_now, events_bus=bus, idempotency=idempotency, verifications=DynamoVerifications(),
        longest_pull=timedelta(minutes=config.footage_pull_minutes))
    _performance = Performance(published, DynamoCounters(config.scores_table),
                               S3Reports(config.reports_bucket), utc_now,
                               scope=_supervision.scope.halls_of, cases=cases,
                               retries=SqsQueue(config.counting_queue_url),
                               mailer=mail.from_environment(), texts=texts, log=log,
                               tasks=_supervision.work.tasks, task_view=_supervision.work.view)
    _documents = Documents(published, cases, S3Documents(config.certificates_bucket),
                           certificates, Seal(KmsSealKey(config.seal_key_id)), utc_now,
                           origin=config.site_origin, own_case=_intake.case_for)
    subscribe(bus, _supervision, _performance)
    _documents.subscribe(bus)


def subscribe(bus, supervision, performance) -> None:
    """Who hears of what, said once: the performance counters count, the auditors' log line
    is written for every card and light, supervision reacts to decisions and answers."""
    from .domain import events
    from .logs import card_raised

    bus.subscribe(events.CardRaised, card_raised)
    bus.subscribe(events.TaskLightRaised, card_raised)
    for counted in events.COUNTED:
        bus.subscribe(counted, performance.count)
    supervision.subscribe(bus)


def use(intake_service, approval_service=None, supervision_service=None) -> None:
    """Replaces the wiring (tests with in-memory adapters)."""
    global _intake, _approval, _supervision
    _intake, _approval, _supervision = intake_service, approval_service, supervision_service
