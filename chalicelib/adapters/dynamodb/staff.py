"""StaffAccountsTable: which staff member a sign-in is. One item per subject of the identity
provider the staff identity pool trusts (the staff user pool's `sub`, or the government OA
single sign-on's in China), naming the staff id of the directory; written when the staff member
is given their sign-in (local/staff.py locally, the operators' provisioning in the cloud) and
read by the API on every signed-in request."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from .table import meta


class StaffAccountModel(Model):
    Meta = meta("staff_accounts_table", "StaffAccountsTable")
    subject = UnicodeAttribute(hash_key=True)      # the identity provider's sub
    staff_id = UnicodeAttribute()
    provider = UnicodeAttribute(null=True)         # the provider that issued the sub
    bound_at = UnicodeAttribute(null=True)


class DynamoStaffAccounts:
    def staff_id_of(self, subject: str) -> str | None:
        try:
            return StaffAccountModel.get(subject).staff_id
        except StaffAccountModel.DoesNotExist:
            return None

    def bind(self, subject: str, staff_id: str, provider: str, at: str) -> None:
        StaffAccountModel(subject, staff_id=staff_id, provider=provider, bound_at=at).save()
