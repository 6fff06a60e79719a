"""The one seam between the services: they publish typed events (chalicelib/domain/events.py)
and the bus hands each to the handlers subscribed to its type, in the order chalicelib/bootstrap.py
subscribed them, once, when it wires the services. A service knows no other service."""
from __future__ import annotations

from collections import defaultdict
from typing import Callable


class Bus:
    def __init__(self):
        self._handlers: dict[type, list[Callable]] = defaultdict(list)

    def subscribe(self, kind: type, handler: Callable) -> None:
        self._handlers[kind].append(handler)

    def publish(self, *events) -> None:
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                handler(event)

    def subscribers(self, kind: type) -> list[Callable]:
        return list(self._handlers.get(kind, ()))


class Recorder(Bus):
    """A bus that also keeps what was published (tests: "this decision raised a red card")."""

    def __init__(self):
        super().__init__()
        self.published: list = []

    def publish(self, *events) -> None:
        self.published.extend(events)
        super().publish(*events)

    def of(self, kind: type) -> list:
        return [event for event in self.published if isinstance(event, kind)]
