"""VerificationsTable: visitors' text-message codes, one item per mobile number with its current
code's hash, attempts and today's sends; DynamoDB's TTL removes it once the code expired and its
day is over. Written on the version it was read at, so two requests at once cannot both send a
code or both use one."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ...domain.errors import ConcurrentChange
from ...domain.verification import Verification
from .table import at_version, meta, put_if


class VerificationModel(Model):
    Meta = meta("verifications_table", "VerificationsTable")
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
        if not put_if(model, at_version(VerificationModel.version, record.version)):
            raise ConcurrentChange("the code of this number changed meanwhile", field="phone")
        record.version += 1
