"""Work handed to a queue (SQS): the shares a scheduled job fans out (a hall's default ratings,
a batch of its cases, a period's report) and the counting left to do after a failure. Each
message is a JSON object; a queue handler of app.py takes it (Powertools' batch utility), and
what fails is received again and, after the queue's maxReceiveCount, goes to its dead-letter
queue."""
from __future__ import annotations

import json

from . import aws

MOST_PER_CALL = 10          # SendMessageBatch takes at most ten entries
MOST_BYTES = 256 * 1024     # ... and at most 256 KiB in all


class QueueRefused(RuntimeError):
    """SQS refused some messages twice: none is lost silently, the caller fails."""


class SqsQueue:
    def __init__(self, url: str):
        self.url = url

    def send(self, messages: list[dict]) -> int:
        """Every message, in batches of ten (one SendMessageBatch each); the entries SQS refuses
        are sent once more, and a second refusal raises QueueRefused. The calls made."""
        bodies = [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in messages]
        calls = 0
        for chunk in _chunks(bodies):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            for attempt in range(2):
                answer = aws.client("sqs").send_message_batch(QueueUrl=self.url, Entries=entries)
                calls += 1
                failed = {f["Id"] for f in answer.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueRefused(f"{len(entries)} messages refused by {self.url}")
        return calls


def _chunks(bodies: list[str]):
    chunk, size = [], 0
    for body in bodies:
        length = len(body.encode("utf-8"))
        if chunk and (len(chunk) == MOST_PER_CALL or size + length > MOST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += length
    if chunk:
        yield chunk


class InMemoryQueue:
    """Plays a queue in the unit tests: what was sent, in order; `refusing` makes send fail."""

    def __init__(self):
        self.sent: list[dict] = []
        self.refusing = False

    def send(self, messages: list[dict]) -> int:
        if self.refusing:
            raise QueueRefused("the queue refused the messages")
        # As SQS keeps them: the JSON body, read back as a new object.
        self.sent.extend(json.loads(json.dumps(m)) for m in messages)
        return -(-len(messages) // MOST_PER_CALL)

    def take(self) -> list[dict]:
        """What was sent and not yet taken (a test delivering it to the handler)."""
        taken, self.sent = self.sent, []
        return taken
