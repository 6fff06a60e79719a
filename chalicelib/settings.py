"""The functions' settings, read from the environment in one place, once.

What the cloud template must set (every table, bucket and workflow the code uses) has no default:
a function missing one fails at its first request naming every missing variable, instead of
writing to a table called "CasesTable" or starting no workflow. What a deployment may leave out
has its default here, said once. infra/resources.json sets the template's values; a test checks
it sets every required name."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping

# environment variable → field, for what the template must set
REQUIRED = {
    "CASES_TABLE": "cases_table", "TRAIL_TABLE": "trail_table",
    "BRANCHES_TABLE": "branches_table", "COUNTERS_TABLE": "counters_table",
    "IDEMPOTENCY_TABLE": "idempotency_table", "SUPERVISION_TABLE": "supervision_table",
    "TASKS_TABLE": "tasks_table", "FAQS_TABLE": "faqs_table", "SCORES_TABLE": "scores_table",
    "VERIFICATIONS_TABLE": "verifications_table",
    "IDENTITY_BINDINGS_TABLE": "identity_bindings_table",
    "STAFF_ACCOUNTS_TABLE": "staff_accounts_table", "STAFF_IDENTITY_POOL": "staff_identity_pool",
    "MATERIALS_BUCKET": "materials_bucket", "CERTIFICATES_BUCKET": "certificates_bucket",
    "EVIDENCE_BUCKET": "evidence_bucket", "REPORTS_BUCKET": "reports_bucket",
    "CASE_WORKFLOW_ARN": "case_workflow_arn", "TASK_WORKFLOW_ARN": "task_workflow_arn",
    "RATINGS_QUEUE_URL": "ratings_queue_url", "EXPORTS_QUEUE_URL": "exports_queue_url",
    "COUNTING_QUEUE_URL": "counting_queue_url",
    "CURSOR_KEY_SECRET": "cursor_key_secret",
    "SEAL_KEY_ID": "seal_key_id",
}


class MissingSettings(RuntimeError):
    def __init__(self, names: list[str]):
        super().__init__("the function's environment lacks " + ", ".join(names)
                         + " (set by the template: infra/resources.json)")
        self.names = names


@dataclass(frozen=True)
class Settings:
    cases_table: str
    trail_table: str
    branches_table: str
    counters_table: str
    idempotency_table: str
    supervision_table: str
    tasks_table: str
    faqs_table: str
    scores_table: str
    verifications_table: str
    identity_bindings_table: str
    staff_accounts_table: str       # a staff sign-in's subject → the staff member
    staff_identity_pool: str        # the identity pool staff credentials come from
    materials_bucket: str
    certificates_bucket: str
    evidence_bucket: str
    reports_bucket: str
    case_workflow_arn: str
    task_workflow_arn: str
    ratings_queue_url: str          # the default ratings' shares (a hall, a batch of cases)
    exports_queue_url: str          # the hourly export's shares (a period, the board)
    counting_queue_url: str         # counting that failed, counted again
    cursor_key_secret: str          # the secret whose value signs the lists' cursors
    seal_key_id: str                # the hall's electronic seal: an asymmetric KMS key
    # Optional, with their defaults:
    workday_seconds: float | None = None        # a compressed clock (demos, tests)
    hall_closures: tuple[str, ...] = ()         # the halls' own closure days (ISO dates)
    sms_gateway: str = "sns"                    # sns, or http (a domestic gateway: China)
    citizen_pool_arn: str | None = None         # the citizens' user pool (none in China)
    staff_sign_in_provider: str | None = None   # the staff user pool's provider name, if any
    footage_pull_minutes: int = 120             # a supervisor's longest pull of footage
    site_origin: str = ""                       # the website's address, in documents' QR codes

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise MissingSettings(missing)
        compressed = env.get("WORKDAY_SECONDS")
        closures = tuple(day.strip() for day in env.get("HALL_CLOSURES", "").split(",")
                         if day.strip() and day.strip() != "none")
        return cls(**{field: env[name] for name, field in REQUIRED.items()},
                   workday_seconds=float(compressed) if compressed else None,
                   hall_closures=closures, sms_gateway=env.get("SMS_GATEWAY") or "sns",
                   citizen_pool_arn=env.get("CITIZEN_POOL_ARN") or None,
                   staff_sign_in_provider=env.get("STAFF_SIGN_IN_PROVIDER") or None,
                   footage_pull_minutes=_minutes(env, "FOOTAGE_PULL_MINUTES", 120),
                   site_origin="" if env.get("SITE_ORIGIN") in (None, "", "none")
                   else env["SITE_ORIGIN"].rstrip("/"))


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    given = (env.get(name) or "").strip()
    if not given:
        return default
    if not given.isdigit() or not 1 <= int(given) <= 24 * 60:
        raise ValueError(f"{name} is a whole number of minutes from 1 to 1440, not {given!r}")
    return int(given)


