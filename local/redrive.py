"""Redrive from a dead-letter queue, as SQS does it and moto does not: moto answers no
StartMessageMoveTask. The local stack answers it (and ListMessageMoveTasks) in the process
that runs moto, so the operator's command of docs/operations.md works locally with
`--endpoint-url`: every message waiting in the dead-letter queue goes back to its source queue
(the one queue whose redrive policy names it, or `DestinationArn`), received afresh, and leaves
the dead-letter queue. The move is done when the call answers (SQS's runs in the background;
`list-message-move-tasks` says COMPLETED either way). Idempotent patch, like local/iam.py's."""
from __future__ import annotations

import time
import uuid

_tasks: dict[str, list[dict]] = {}          # dead-letter queue ARN → its move tasks, newest first


def enable() -> None:
    from moto.sqs.responses import SQSResponse

    if getattr(SQSResponse, "start_message_move_task", None) is _start:
        return
    SQSResponse.start_message_move_task = _start
    SQSResponse.list_message_move_tasks = _list


def _queue_of(backend, arn: str | None):
    from moto.sqs.exceptions import QueueDoesNotExist

    if not isinstance(arn, str) or ":" not in arn:
        raise QueueDoesNotExist()
    return backend.get_queue(arn.rsplit(":", 1)[-1])


def _start(self):
    from moto.sqs.exceptions import InvalidParameterValue

    backend = self.sqs_backend
    source_arn = self._get_param("SourceArn")
    dead = _queue_of(backend, source_arn)
    destination_arn = self._get_param("DestinationArn")
    if destination_arn:
        destination = _queue_of(backend, destination_arn)
    else:
        sources = backend.list_dead_letter_source_queues(dead.name)
        if len(sources) != 1:
            raise InvalidParameterValue(
                f"Source queue {source_arn} is the dead-letter queue of {len(sources)} queues; "
                "give DestinationArn")
        destination = sources[0]
    moved = 0
    for message in list(dead._messages):
        backend.send_message(destination.name, message.body,
                             message_attributes=message.message_attributes)
        dead._messages.remove(message)
        moved += 1
    handle = uuid.uuid4().hex
    _tasks.setdefault(source_arn, []).insert(0, {
        "TaskHandle": handle, "Status": "COMPLETED", "SourceArn": source_arn,
        "DestinationArn": destination.queue_arn, "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": moved,
        "StartedTimestamp": int(time.time() * 1000)})
    return _result({"TaskHandle": handle})


def _list(self):
    found = _tasks.get(self._get_param("SourceArn"), [])
    return _result({"Results": found[: int(self._get_param("MaxResults") or 1)]})


def _result(body: dict):
    from moto.core.responses import ActionResult

    return ActionResult(body)
