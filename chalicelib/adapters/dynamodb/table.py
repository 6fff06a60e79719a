"""What the table modules share: a model's binding to its table (the name from the environment,
the region and the endpoint), the condition of an optimistic write, a conditional put, and the
writes of several items in one transaction."""
from __future__ import annotations

import os

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.errors import ConcurrentChange


def meta(setting: str, logical_id: str):
    """A model's Meta, in the environment's region and at its endpoint (the local stack's, or
    AWS's when none is set). The table's name is the settings' `setting` (chalicelib/settings.py),
    bound by the wiring (`bind`) before any request; until then the template's logical id, which
    is what the tests compare the model with."""
    class Meta:
        table_name = logical_id
        settings_field = setting
        region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    return Meta


def bind(models, settings) -> None:
    """Every model to the table the settings name (read once, with no default)."""
    for model in models:
        model.Meta.table_name = getattr(settings, model.Meta.settings_field)


def at_version(attribute, version: int):
    """The condition of writing an item read at `version` (0: not stored yet)."""
    return attribute.does_not_exist() if version == 0 else attribute == version


def put_if(model, condition) -> bool:
    """Puts the item if the condition holds; False (nothing written) when it does not."""
    try:
        model.save(condition=condition)
        return True
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


def transact(writes, what: str, field: str) -> None:
    """Saves every (model, condition) in one transaction: all or nothing; a failed condition
    means someone changed the item since it was read."""
    first = writes[0][0].Meta
    try:
        with TransactWrite(connection=Connection(region=first.region,
                                                 host=first.host)) as transaction:
            for model, condition in writes:
                transaction.save(model, condition=condition)
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            raise ConcurrentChange(f"{what} changed meanwhile; read it again", field=field)
        raise
