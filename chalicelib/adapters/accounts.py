"""The citizens' accounts in the Cognito user pool (the CitizenAccounts port): the real-name
step sets an account's verified name and identity number with the administrator's
AdminUpdateUserAttributes, which the API's role may call on this pool only (infra/roles.py).
The website's app client may write neither attribute (infra/resources.json, WriteAttributes)."""
from __future__ import annotations

from . import aws


class CognitoAccounts:
    def __init__(self, pool_arn: str | None):
        self.pool_id = (pool_arn or "").rsplit("/", 1)[-1]

    def set_verified(self, username: str, name: str, id_number: str) -> None:
        if not self.pool_id:
            raise RuntimeError("CITIZEN_POOL_ARN is not set: no user pool to update")
        aws.client("cognito-idp").admin_update_user_attributes(
            UserPoolId=self.pool_id, Username=username,
            UserAttributes=[{"Name": "name", "Value": name},
                            {"Name": "custom:id_number", "Value": id_number}])
