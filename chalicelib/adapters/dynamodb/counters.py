"""CountersTable: running numbers (a hall's case numbers of a day), one item a sequence, each
next number taken by an atomic ADD."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .table import meta


class CounterModel(Model):
    Meta = meta("counters_table", "CountersTable")
    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


def next_in_sequence(name: str) -> int:
    counter = CounterModel(name)
    counter.update(actions=[CounterModel.value.add(1)])
    return int(counter.value)
