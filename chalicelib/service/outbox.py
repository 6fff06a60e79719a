"""The outbox's sweep, one rule for cases and supervised work: every hand-over committed more
than a grace period ago (the request that committed it has finished or failed by then) and
still pending is carried out; one that fails again is left for the next sweep."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable


def sweep(halls: Iterable[str], pending: Callable[[str, str], list[tuple[str, str]]],
          carry_out: Callable[[str], object], now: datetime, grace_seconds: float,
          what: str) -> dict:
    """`pending(hall, before)` lists (id, committed at) of a hall's hand-overs committed before
    `before`; `carry_out(id)` carries one out or raises. Returns what the sweep found and did,
    and how long the oldest one left has been waiting."""
    from ..logs import logger

    before = (now - timedelta(seconds=grace_seconds)).isoformat()
    found, done, left = 0, 0, []
    for hall in sorted(halls):
        for item_id, due in pending(hall, before):
            found += 1
            try:
                carry_out(item_id)
                done += 1
            except Exception:  # noqa: BLE001 - the next sweep tries again
                logger.warning(f"{what} failed again", exc_info=True,
                               extra={"id": item_id, "due": due})
                left.append(due)
    oldest = (now - datetime.fromisoformat(min(left))).total_seconds() if left else 0
    return {"found": found, "carried_out": done, "left": len(left),
            "oldest_pending_seconds": round(oldest)}
