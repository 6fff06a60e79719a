"""Where the local emulator must behave as AWS does and moto, run in threads, does not.

DynamoDB runs every TransactWriteItems as one serializable unit. moto applies a transaction's
writes one by one and, when a later condition fails, puts back a copy of the whole table taken
before it began. With requests served in parallel threads that copy can undo a write another
request made in between and was told had succeeded, or leave a trail record without the case
change it belonged to; every later change of that case then fails its condition. The optimistic
concurrency the service relies on (a change lands only on the trail head it read) needs the
real guarantee, so the local stack serves DynamoDB requests one at a time. They are short;
the API and the workflow still run in parallel around them.

Copying whole tables also makes every transaction slower as the tables grow (about 90 ms per
transaction with 5,000 trail records), where DynamoDB's cost does not depend on table size. Under
the lock a transaction can instead check every condition first, as DynamoDB does, and only then
write; a write that still fails puts back the few items it touched.
"""
from __future__ import annotations

import copy
import functools
import threading

_LOCK = threading.RLock()


def serialise_dynamodb() -> None:
    """Idempotent: wraps moto's DynamoDB request handler and transactions once per process."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    handle = DynamoHandler.call_action

    @functools.wraps(handle)
    def call_action(self):
        with _LOCK:
            return handle(self)

    call_action.serialised = True
    DynamoHandler.call_action = call_action
    DynamoDBBackend.transact_write_items = _transaction(DynamoDBBackend.transact_write_items)


def _transaction(whole_table_copy):
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException

    @functools.wraps(whole_table_copy)
    def transact_write_items(backend, transact_items):
        operations = [next(iter(item.items())) for item in transact_items]
        targets = [_target(backend, kind, operation) for kind, operation in operations]
        if len(transact_items) > 100 or any(len(item) != 1 for item in transact_items) \
                or None in targets or len(set(targets)) != len(targets):
            return whole_table_copy(backend, transact_items)   # moto names the request's fault

        with _LOCK:
            before = {target: copy.deepcopy(backend.get_item(target[0], _key(target)))
                      for target in targets}
            reasons, failed = [], False
            for (kind, operation), target in zip(operations, targets):
                current = before[target]
                condition = operation.get("ConditionExpression")
                if condition and not get_filter_expression(
                        condition, operation.get("ExpressionAttributeNames"),
                        operation.get("ExpressionAttributeValues")).expr(current):
                    failed = True
                    old = current.to_json()["Attributes"] if current and operation.get(
                        "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                    reasons.append(("ConditionalCheckFailed",
                                    ConditionalCheckFailed().message, old))
                else:
                    reasons.append((None, None, None))
            if failed:
                raise TransactionCanceledException(reasons)
            try:
                for kind, operation in operations:
                    _write(backend, kind, operation)
            except Exception:
                for target, item in before.items():
                    _restore(backend, target, item)
                # Back where it began: moto's own path now answers with the exact error.
                return whole_table_copy(backend, transact_items)
    return transact_write_items


def _target(backend, kind, operation):
    """(table, key) the operation writes, or None when the request is malformed."""
    try:
        table = backend.get_table(operation["TableName"])
        attrs = operation["Item"] if kind == "Put" else operation["Key"]
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return (operation["TableName"],
                tuple((name, tuple(sorted(attrs[name].items()))) for name in names))
    except Exception:  # noqa: BLE001 - malformed: left to moto's own checks
        return None


def _key(target):
    return {name: dict(value) for name, value in target[1]}


def _write(backend, kind, operation):
    table = operation["TableName"]
    names = operation.get("ExpressionAttributeNames")
    values = operation.get("ExpressionAttributeValues")
    if kind == "Put":
        backend.put_item(table, operation["Item"])
    elif kind == "Delete":
        backend.delete_item(table, operation["Key"])
    elif kind == "Update":
        backend.update_item(table, operation["Key"], operation["UpdateExpression"],
                            names, values)
    elif kind != "ConditionCheck":
        raise ValueError(f"unsupported transaction operation {kind}")


def _restore(backend, target, item):
    key = _key(target)
    if item is None:
        if backend.get_item(target[0], key) is not None:
            backend.delete_item(target[0], key)
    else:
        backend.put_item(target[0], item.to_json()["Attributes"])
