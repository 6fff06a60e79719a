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


class DynamoRealNameAttempts:
    """The real-name step's refusals of one account on one China day, an item of the same table
    (`realname#<account>#<day>`, gone by TTL the day after): counted on the version read, so two
    refusals at once are both counted."""

    def __init__(self, prefix: str = "realname"):
        self.prefix = prefix      # "lookup": the progress lookup's wrong query codes

    def _key(self, account: str, day: str) -> str:
        return f"{self.prefix}#{account}#{day}"

    def refused(self, account: str, day: str) -> int:
        try:
            return int(VerificationModel.get(self._key(account, day),
                                             consistent_read=True).data["refused"])
        except VerificationModel.DoesNotExist:
            return 0

    def count_refusal(self, account: str, day: str) -> None:
        from datetime import date, datetime, time, timedelta, timezone

        china = timezone(timedelta(hours=8))
        expires = datetime.combine(date.fromisoformat(day) + timedelta(days=2), time(),
                                   tzinfo=china)
        for _attempt in range(5):
            try:
                model = VerificationModel.get(self._key(account, day), consistent_read=True)
                version, refused = int(model.version), int(model.data["refused"])
            except VerificationModel.DoesNotExist:
                version, refused = 0, 0
            model = VerificationModel(self._key(account, day), version=version + 1,
                                      expires=int(expires.timestamp()),
                                      data={"refused": refused + 1})
            if put_if(model, at_version(VerificationModel.version, version)):
                return
        raise ConcurrentChange("the attempts of this account changed meanwhile; try again",
                               field="id_number")
