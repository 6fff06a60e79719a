"""Fires locally what AWS fires in the cloud, which moto never does: scheduled rules and queue
event sources. It calls the app's own handlers with events of the real shapes."""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone

log = logging.getLogger("approval.dispatcher")
RATE_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
                "days": 86400}


@functools.lru_cache(maxsize=None)
def function_timeout_seconds() -> int:
    """The functions' timeout as the packaged template gives it (.chalice/config.json)."""
    from pathlib import Path

    config = json.loads((Path(__file__).resolve().parent.parent / ".chalice" / "config.json")
                        .read_text())
    return int(config.get("lambda_timeout")
               or config["stages"]["dev"].get("lambda_timeout") or 60)


# The longest pause between two polls of a queue that was empty: the workflow's messages (the
# lights) are picked up at most this late after a quiet spell, well inside their 1 s goal.
IDLE_POLL_SECONDS = 0.4

class LambdaContext:
    """What Lambda hands a function with each invocation: its remaining time counts down from
    the function's timeout (Powertools reads it, e.g. for idempotency records)."""

    def __init__(self, name: str, timeout_seconds: int | None = None):
        self.function_name = name
        self.aws_request_id = uuid.uuid4().hex
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self._deadline = time.monotonic() + (timeout_seconds or function_timeout_seconds())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def schedule_seconds(expression) -> float:
    """Seconds between runs of a rate(...) schedule; cron schedules run hourly locally."""
    text = expression if isinstance(expression, str) else expression.to_string()
    if text.startswith("rate("):
        value, unit = text[5:-1].split()
        return int(value) * RATE_SECONDS[unit]
    return 3600.0


def schedule_overrides() -> dict[str, float]:
    """LOCAL_SCHEDULES="HandOverCases=2,...": those functions run every N seconds instead of at
    their schedule's rate (a test that cannot wait a minute for the hand-overs' sweeper)."""
    import os

    rates = {}
    for entry in filter(None, os.environ.get("LOCAL_SCHEDULES", "").split(",")):
        function, _, seconds = entry.partition("=")
        rates[function.strip()] = float(seconds)
    return rates


def scheduled_event(rule: str, region: str, at: datetime) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": [f"arn:aws:events:{region}:123456789012:rule/{rule}"], "detail": {}}


def sqs_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": region} for m in messages]}


class Dispatcher:
    def __init__(self, app_module, names: dict[str, str], region: str, poll_seconds: float = 0.05,
                 speedup: float = 1.0, queue_urls: dict[str, str] | None = None,
                 schedule_seconds: float | None = None):
        from chalice.app import ScheduledEventConfig, SQSEventConfig

        self.app_module = app_module
        self.region = region
        self.poll_seconds = poll_seconds
        self.speedup = speedup
        self.every = schedule_seconds      # every schedule this often (demos, benchmarks)
        self.rates = schedule_overrides()  # some schedules faster (tests)
        self._stop = threading.Event()
        sources = app_module.app.event_sources
        self.queues = [s for s in sources if isinstance(s, SQSEventConfig)]
        self.schedules = [s for s in sources if isinstance(s, ScheduledEventConfig)]
        self.invocations: dict[str, int] = {}
        # An event source mapping knows its queue; it never asks for the URL with the role.
        self._queue_urls: dict[str, str] = dict(queue_urls or {})
        from concurrent.futures import ThreadPoolExecutor
        self.concurrency = 8
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                        thread_name_prefix="dispatcher")

    def handler(self, source):
        return getattr(self.app_module, source.handler_string.rsplit(".", 1)[-1])

    @staticmethod
    def function(source) -> str:
        """The function's name in the packaged template, whose role it runs with."""
        from chalice.utils import to_cfn_resource_name

        return to_cfn_resource_name(source.name)

    def start(self) -> None:
        # One poller per queue, as each event source mapping polls on its own.
        threading.Thread(target=self._run, name="dispatcher", daemon=True).start()
        for source in self.queues:
            threading.Thread(target=self._poll_forever, args=(source,), name="dispatcher",
                             daemon=True).start()

    def _poll_forever(self, source) -> None:
        from .runtime import acting_as

        idle = self.poll_seconds
        while not self._stop.is_set():
            try:
                # An event source mapping polls with its function's role.
                with acting_as(self.function(source)):
                    found = self.poll(source, idle)
                # An empty queue is asked less and less often (up to IDLE_POLL_SECONDS apart):
                # a stack with many quiet queues would otherwise spend its cores asking them.
                idle = self.poll_seconds if found else min(idle * 2, IDLE_POLL_SECONDS)
            except Exception:  # noqa: BLE001 - the endpoint may be going away at shutdown
                log.debug("poll failed", exc_info=True)
                self._stop.wait(self.poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False)

    def _period(self, source) -> float:
        return self.rates.get(self.function(source)) or self.every \
            or schedule_seconds(source.schedule_expression) / self.speedup

    def _run(self) -> None:
        due = {s.name: time.monotonic() + self._period(s) for s in self.schedules}
        while not self._stop.is_set():
            for source in self.schedules:
                if time.monotonic() >= due[source.name]:
                    due[source.name] += self._period(source)
                    self._invoke(source, scheduled_event(source.name, self.region,
                                                         datetime.now(timezone.utc)))
            self._stop.wait(self.poll_seconds)

    def poll(self, source, idle: float | None = None) -> int:
        """Delivers what the queue holds, as Lambda's event source mapping does with
        ReportBatchItemFailures: several invocations at once, each with its own batch (at most
        the handler's batch size). Of each batch only the messages that succeeded are deleted
        (`batch_failures`); the others become visible again after the visibility timeout, and
        after the queue's maxReceiveCount SQS moves them to the dead-letter queue (moto applies
        the queue's redrive policy when it receives them, as SQS does)."""
        from chalicelib.adapters import aws

        sqs = aws.client("sqs")
        url = self._queue_urls.get(source.queue)
        if url is None:
            url = self._queue_urls[source.queue] = \
                sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            # Short polls: moto's long poll holds up the queue's other callers meanwhile.
            self._stop.wait(idle or self.poll_seconds)
            return 0
        arn = f"arn:aws:sqs:{self.region}:123456789012:{source.queue}"
        done = list(self._pool.map(lambda batch: self.deliver(source, batch, arn),
                                   batches(messages, source.batch_size, self.concurrency)))
        handled = [m for succeeded in done for m in succeeded]
        if handled:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(handled)])
        return len(messages)

    def deliver(self, source, batch: list[dict], arn: str) -> list[dict]:
        """One invocation with one batch: the messages that succeeded (to delete)."""
        response = self._invoke(source, sqs_event(batch, arn, self.region))
        if response is FAILED:
            return []
        failed = batch_failures(response, [m["MessageId"] for m in batch])
        if failed:
            log.warning(json.dumps({"event": "batch_item_failures", "handler": source.name,
                                    "failed": sorted(failed), "batch": len(batch)}))
        return [m for m in batch if m["MessageId"] not in failed]

    def _invoke(self, source, event: dict):
        """The handler's answer, or FAILED when it raised (as a function error)."""
        from .runtime import acting_as

        self.invocations[source.name] = self.invocations.get(source.name, 0) + 1
        try:
            with acting_as(self.function(source)):
                return self.handler(source)(event, LambdaContext(source.name))
        except Exception:  # noqa: BLE001 - a failing handler must not stop the dispatcher
            log.exception(json.dumps({"event": "handler_failed", "handler": source.name}))
            return FAILED


FAILED = object()      # an invocation that ended in a function error


def batches(messages: list[dict], batch_size: int, concurrency: int) -> list[list[dict]]:
    """The received messages as invocations' batches: spread over the concurrent invocations
    (latency matters more locally than invocations saved), none above the handler's batch size,
    every message in exactly one batch, in the order received."""
    count = max(min(len(messages), concurrency), -(-len(messages) // max(1, batch_size)))
    return [messages[i::count] for i in range(count) if messages[i::count]]


def batch_failures(response, message_ids: list[str]) -> set[str]:
    """The messages of a batch Lambda receives again, from the handler's answer as the event
    source mapping reads it with ReportBatchItemFailures: none for an answer without
    `batchItemFailures` (or an empty list), the ones named; every message of the batch when the
    answer names a message that is not in it, or names none properly."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    named = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures] \
        if isinstance(failures, list) else [None]
    if any(not isinstance(n, str) or n not in message_ids for n in named):
        return set(message_ids)
    return set(named)
