"""Wires the service layer to its adapters, once per process and only when first needed."""
from __future__ import annotations

import os

_intake = None


def intake():
    global _intake
    if _intake is None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from . import catalog
        from .adapters import aws
        from .adapters.dynamodb import DynamoCases
        from .adapters.idempotency import PowertoolsIdempotency
        from .adapters.s3 import S3Materials
        from .service.intake import Intake

        store = DynamoDBPersistenceLayer(
            table_name=os.environ.get("IDEMPOTENCY_TABLE", "IdempotencyTable"),
            boto3_client=aws.client("dynamodb"))
        _intake = Intake(catalog.published(), DynamoCases(), S3Materials(),
                         PowertoolsIdempotency(store))
    return _intake


def use(intake_service) -> None:
    """Replaces the wiring (tests with in-memory adapters)."""
    global _intake
    _intake = intake_service
