"""The counters (计数) of the performance figures: a mapping (scope, subject, period) ->
{metric: number}, built from events' increments (`counting.increments`), mergeable, and indexed
by period so that compiling one period reads only the subjects counted in it. A storage adapter
keeps one item per key (`to_items` / `from_items`). Plain rules, no I/O."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .counting import SCOPES, Increment, grouped, increments
from .errors import InvalidInput

Key = tuple[str, str, str]


class Counters(Mapping):
    """A mapping (scope, subject, period) -> {metric: number}. Mergeable; indexed by period, so
    reading one period touches only the subjects counted in it."""

    def __init__(self, items: Mapping[Key, Mapping[str, int]] | None = None):
        self._by_period: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
        self._periods: dict[tuple[str, str], set[str]] = {}
        for key, metrics in (items or {}).items():
            self.add(key, metrics)

    @classmethod
    def of_events(cls, events: Iterable[Mapping]) -> "Counters":
        counters = cls()
        for event in events:
            counters.record(event)
        return counters

    # -- writing ---------------------------------------------------------------------------
    def add(self, key: Key, metrics: Mapping[str, int]) -> "Counters":
        scope, subject, period = key
        if scope not in SCOPES:
            raise InvalidInput(f"scope is one of {', '.join(SCOPES)}", field="scope")
        row = self._by_period.setdefault(period, {}).get((scope, subject))
        if row is None:
            row = self._by_period[period][(scope, subject)] = {}
            self._periods.setdefault((scope, subject), set()).add(period)
        for metric, amount in metrics.items():
            row[metric] = row.get(metric, 0) + amount
        return self

    def apply(self, incs: Iterable[Increment]) -> "Counters":
        for key, metrics in grouped(incs).items():
            self.add(key, metrics)
        return self

    def record(self, event: Mapping) -> "Counters":
        return self.apply(increments(event))

    def merge(self, other: "Counters") -> "Counters":
        """A new set holding both: counters of separate shards or batches add up."""
        out = Counters()
        for source in (self, other):
            for key, metrics in source.items():
                out.add(key, metrics)
        return out

    __add__ = merge

    # -- reading ---------------------------------------------------------------------------
    def metrics(self, scope: str, subject: str, period: str) -> Mapping[str, int]:
        """A subject's counters for a period; empty when nothing was counted."""
        return self._by_period.get(period, {}).get((scope, subject), {})

    def __getitem__(self, key: Key) -> Mapping[str, int]:
        scope, subject, period = key
        row = self._by_period.get(period, {}).get((scope, subject))
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        try:
            self[key]   # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return False
        return True

    def __iter__(self) -> Iterator[Key]:
        for period, rows in self._by_period.items():
            for scope, subject in rows:
                yield scope, subject, period

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._by_period.values())

    def items(self) -> Iterator[tuple[Key, Mapping[str, int]]]:   # faster than a view
        for period, rows in self._by_period.items():
            for (scope, subject), metrics in rows.items():
                yield (scope, subject, period), metrics

    def subjects(self, scope: str, period: str) -> list[str]:
        return [subject for s, subject in self._by_period.get(period, {}) if s == scope]

    def periods(self, scope: str, subject: str) -> list[str]:
        return sorted(self._periods.get((scope, subject), ()))

    def as_dict(self) -> dict[Key, dict[str, int]]:
        """Every counter item with its non-zero metrics (a re-rating can leave zeros behind)."""
        out = {}
        for key, metrics in self.items():
            kept = {m: n for m, n in metrics.items() if n}
            if kept:
                out[key] = kept
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counters) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Counters({len(self)} items)"

    # -- storage ---------------------------------------------------------------------------
    def to_items(self) -> list[dict]:
        return [{"scope": s, "subject": subject, "period": p, "metrics": dict(metrics)}
                for (s, subject, p), metrics in self.items()]

    @classmethod
    def from_items(cls, rows: Iterable[Mapping]) -> "Counters":
        counters = cls()
        for row in rows:
            counters.add((row["scope"], row["subject"], row["period"]),
                         {m: int(n) for m, n in row["metrics"].items()})
        return counters
