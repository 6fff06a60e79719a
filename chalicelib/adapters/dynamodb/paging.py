"""Pages of DynamoDB queries: Query with Limit and ExclusiveStartKey, never a Scan.

A list may merge several partitions (a supervision office's halls): each is queried in its own
order from where the previous page left it, and the items are taken in the common order, so a
page holds the newest (or oldest) items of them all and every item comes once. The position is
one key per partition (the last item taken from it, as ExclusiveStartKey) or DONE. A `keep`
filter is applied to what is read; a page whose reading reached its budget (ten pages' worth)
stops early with the position where it stopped, so a page may hold fewer items than asked."""
from __future__ import annotations

from typing import Callable

DONE = "done"
BUDGET_PAGES = 10


def merged(sources: dict[str, Callable], limit: int, position: dict | None,
           order: Callable, key_of: Callable, keep: Callable | None = None,
           newest_first: bool = False) -> tuple[list, dict | None]:
    """`sources`: partition name → fetch(start_key, n) returning (items, LastEvaluatedKey),
    each in its own order (newest first when `newest_first`). Returns the page's items and the
    next position (None: every partition is read to its end)."""
    position = {name: key for name, key in (position or {}).items() if name in sources}
    live = [name for name in sorted(sources) if position.get(name) != DONE]
    buffers: dict[str, list] = {name: [] for name in live}
    more = {name: True for name in live}
    budget, read = limit * BUDGET_PAGES, 0
    taken: list = []
    while len(taken) < limit:
        for name in live:
            if not buffers[name] and more[name] and read < budget:
                items, last = sources[name](position.get(name), limit)
                read += max(len(items), 1)
                buffers[name], more[name] = list(items), last is not None
                if not items and last is not None:
                    position[name] = last
        heads = [name for name in live if buffers[name]]
        if not heads:
            break
        pick = (max if newest_first else min)(heads, key=lambda n: order(buffers[n][0]))
        item = buffers[pick].pop(0)
        position[pick] = key_of(item)
        if keep is None or keep(item):
            taken.append(item)
    for name in live:
        if not buffers[name] and not more[name]:
            position[name] = DONE
    if all(position.get(name) == DONE for name in sources):
        return taken, None
    return taken, position


def query(index_or_model, hash_key, range_key_condition=None, newest_first=False):
    """A fetch(start_key, n) over one partition of a table or index (pynamodb)."""
    def fetch(start, n):
        found = index_or_model.query(hash_key, range_key_condition=range_key_condition,
                                     scan_index_forward=not newest_first, limit=n, page_size=n,
                                     last_evaluated_key=start)
        items = list(found)
        return items, found.last_evaluated_key
    return fetch


def keys(**attributes: str) -> dict:
    """An ExclusiveStartKey from an item's key attributes (table and index keys), all strings."""
    return {name: {"S": value} for name, value in attributes.items()}
