"""FaqsTable: answers to online consultations that a department published to an item's
guide."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.models import Model

from .table import meta


class FaqModel(Model):
    Meta = meta("faqs_table", "FaqsTable")
    item = UnicodeAttribute(hash_key=True)
    source = UnicodeAttribute(range_key=True)
    data = JSONAttribute()


class DynamoFaqs:
    def publish(self, item, entry):
        FaqModel(item, entry["source"], data=entry).save()

    def of_item(self, item):
        return sorted((m.data for m in FaqModel.query(item)), key=lambda e: e["published_at"])
