"""Visitors' text-message codes in DynamoDB (VerificationsTable of infra/resources.json): one item
per mobile number with its current code's hash, attempts and today's sends; DynamoDB's TTL
removes it once the code expired and its day is over. Written on the version it was read at,
so two requests at once cannot both send a code or both use one."""
from __future__ import annotations

import copy
import threading

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from ..domain.errors import ConcurrentChange
from ..domain.verification import Verification
from .dynamodb import _meta


class VerificationModel(Model):
    Meta = _meta("VERIFICATIONS_TABLE", "VerificationsTable")
    phone = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    expires = NumberAttribute()          # the table's TTL attribute (epoch seconds)
    data = JSONAttribute()


class DynamoVerifications:
    def get(self, phone: str) -> Verification | None:
        try:
            model = VerificationModel.get(phone, consistent_read=True)
        except VerificationModel.DoesNotExist:
            return None
        record = Verification.from_dict(model.data)
        record.version = int(model.version)
        return record

    def save(self, record: Verification) -> None:
        model = VerificationModel(record.phone, version=record.version + 1,
                                  expires=int(record.keep_until().timestamp()),
                                  data={**record.to_dict(), "version": record.version + 1})
        condition = VerificationModel.version.does_not_exist() if record.version == 0 \
            else VerificationModel.version == record.version
        try:
            model.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise ConcurrentChange("the code of this number changed meanwhile",
                                       field="phone")
            raise
        record.version += 1


class InMemoryVerifications:
    """The same for the service's unit tests."""

    def __init__(self):
        self.items: dict[str, dict] = {}
        self._lock = threading.Lock()

    def get(self, phone):
        data = self.items.get(phone)
        return Verification.from_dict(copy.deepcopy(data)) if data else None

    def save(self, record):
        with self._lock:
            stored = self.items.get(record.phone)
            if (stored["version"] if stored else 0) != record.version:
                raise ConcurrentChange("the code of this number changed meanwhile",
                                       field="phone")
            record.version += 1
            self.items[record.phone] = copy.deepcopy(record.to_dict())
