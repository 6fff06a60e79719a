"""The citizens' user pool as Cognito meets a citizen, where moto falls short of it.

moto's SignUp sends no code and its ConfirmSignUp confirms whatever code it is given; its
ForgotPassword keeps the code in a response header and ConfirmForgotPassword takes any code;
it has no ResendConfirmationCode; and it lets an app client write every attribute, whatever the
client's WriteAttributes say and whether or not the pool's schema makes the attribute mutable.
The local stack is never more open than the cloud, so in the process that runs moto:

- SignUp texts a 6-digit code to the sign-up phone, through moto's SNS, so that it lands in the
  local outbox (local/outbox.py) as a real text would reach the phone; ConfirmSignUp refuses a
  wrong code (CodeMismatchException) and one older than 24 hours (ExpiredCodeException), and a
  confirmed account's phone number is verified, as Cognito marks it; ResendConfirmationCode
  texts a new code, which replaces the old one;
- ForgotPassword texts a code valid one hour to the account's verified phone, and
  ConfirmForgotPassword sets the new password only with it;
- SignUp and UpdateUserAttributes refuse an attribute the app client may not write
  (NotAuthorizedException "A client attempted to write unauthorized attribute"), and no update
  (the administrator's neither) changes an attribute the schema makes immutable;
- the operations Cognito authenticates by a token or a code rather than a signature
  (ResendConfirmationCode, ConfirmForgotPassword, UpdateUserAttributes) are public, as
  SignUp and ConfirmSignUp already are in moto (local/iam.py signs nothing for them).

The codes are Cognito's default: six digits, in the pool's verification message (the cloud's
text, infra/deploy.py). `emulate_cognito` is idempotent."""
from __future__ import annotations

import functools
import secrets
import threading
import time

SIGN_UP_CODE_SECONDS = 24 * 3600        # Cognito: a confirmation code lasts 24 hours
PASSWORD_CODE_SECONDS = 3600            # and a password-reset code one hour
UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"
WRONG_CODE = "Invalid verification code provided, please try again."
EXPIRED_CODE = "Invalid code provided, please request a code again."
PUBLIC = ("AWSCognitoIdentityProviderService.ResendConfirmationCode",
          "AWSCognitoIdentityProviderService.ConfirmForgotPassword",
          "AWSCognitoIdentityProviderService.UpdateUserAttributes")

_lock = threading.Lock()
# (pool id, username, purpose) → (code, issued at, epoch seconds)
_codes: dict[tuple[str, str, str], tuple[str, float]] = {}


def emulate_cognito() -> None:
    """Patches moto's Cognito user pools once per process."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.authorization import ActionAuthenticatorMixin

    if getattr(CognitoIdpResponse, "_as_cognito", False):
        return
    for operation in PUBLIC:
        if operation not in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
            ActionAuthenticatorMixin.PUBLIC_OPERATIONS.append(operation)
    CognitoIdpResponse.sign_up = _sign_up(CognitoIdpResponse.sign_up)
    CognitoIdpResponse.confirm_sign_up = _confirm_sign_up(CognitoIdpResponse.confirm_sign_up)
    CognitoIdpResponse.resend_confirmation_code = _resend_confirmation_code
    CognitoIdpResponse.forgot_password = _forgot_password
    CognitoIdpResponse.confirm_forgot_password = _confirm_forgot_password(
        CognitoIdpResponse.confirm_forgot_password)
    CognitoIdpResponse.update_user_attributes = _update_user_attributes(
        CognitoIdpResponse.update_user_attributes)
    CognitoIdpResponse.admin_update_user_attributes = _admin_update_user_attributes(
        CognitoIdpResponse.admin_update_user_attributes)
    CognitoIdpResponse._as_cognito = True


def reset() -> None:
    with _lock:
        _codes.clear()


# -- where a client, a pool and a user are --------------------------------------------------------
def _client(client_id: str):
    """(backend, pool, client) of an app client id, in any account and region."""
    from moto.cognitoidp.exceptions import ResourceNotFoundError
    from moto.cognitoidp.models import cognitoidp_backends

    for account in list(cognitoidp_backends.values()):
        for region, backend in list(dict.items(account)):
            if region == "global":
                continue
            for pool in list(backend.user_pools.values()):
                if client_id in pool.clients:
                    return backend, pool, pool.clients[client_id]
    raise ResourceNotFoundError(client_id)


def _token(access_token: str):
    """(backend, pool, client, user) of an access token."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import cognitoidp_backends

    for account in list(cognitoidp_backends.values()):
        for region, backend in list(dict.items(account)):
            if region == "global":
                continue
            for pool in list(backend.user_pools.values()):
                if access_token in pool.access_tokens:
                    client_id, username = pool.access_tokens[access_token]
                    return backend, pool, pool.clients.get(client_id), pool._get_user(username)
    raise NotAuthorizedError("Invalid Access Token")


def _writable(client, names) -> None:
    """Cognito's check of the attributes an app client sends against its WriteAttributes (a
    client without a list may write them all)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError

    allowed = (client.extended_config.get("WriteAttributes") if client else None)
    if allowed is None:
        return
    if any(name not in allowed for name in names):
        raise NotAuthorizedError(UNAUTHORIZED_ATTRIBUTE)


def _mutable(pool, user, names) -> None:
    """An immutable attribute is set when the account is created, never afterwards."""
    from moto.cognitoidp.exceptions import InvalidParameterException

    for name in names:
        attribute = pool.schema_attributes.get(name)
        if attribute is not None and not attribute.mutable:
            raise InvalidParameterException(f"{name}: Attribute cannot be updated.")


# -- codes, texted ------------------------------------------------------------------------------
def _issue(backend, pool, user, purpose: str) -> dict:
    """A new code for the account, texted to its phone; the code it replaces no longer holds."""
    from infra.deploy import CONFIRMATION_TEXT
    from moto.sns.models import sns_backends

    code = f"{secrets.randbelow(10 ** 6):06d}"
    with _lock:
        _codes[(pool.id, user.username, purpose)] = (code, time.time())
    phone = user.attribute_lookup.get("phone_number", "")
    if phone:
        sns = sns_backends[backend.account_id][backend.region_name]
        sns.publish(CONFIRMATION_TEXT.replace("{####}", code), arn=None, phone_number=phone)
    return {"Destination": _masked(phone), "DeliveryMedium": "SMS",
            "AttributeName": "phone_number"}


def _check(pool, user, purpose: str, code: str, lasts: float) -> None:
    from moto.cognitoidp.exceptions import CodeMismatchException, ExpiredCodeException

    with _lock:
        issued = _codes.get((pool.id, user.username, purpose))
    if issued is None:
        raise ExpiredCodeException(EXPIRED_CODE)
    expected, at = issued
    if not secrets.compare_digest(str(code or ""), expected):
        raise CodeMismatchException(WRONG_CODE)
    if time.time() - at > lasts:
        raise ExpiredCodeException(EXPIRED_CODE)
    with _lock:
        _codes.pop((pool.id, user.username, purpose), None)


def _masked(phone: str) -> str:
    """Cognito names the destination as +*******8000."""
    return phone[:1] + "*" * max(0, len(phone) - 5) + phone[-4:] if phone else ""


def expire(pool_id: str, username: str, purpose: str = "sign_up",
           seconds: float = SIGN_UP_CODE_SECONDS + 1) -> None:
    """Ages an account's current code (tests of the expiry, in the process running moto)."""
    with _lock:
        key = (pool_id, username, purpose)
        if key in _codes:
            code, at = _codes[key]
            _codes[key] = (code, at - seconds)


# -- the operations -------------------------------------------------------------------------
def _sign_up(moto_sign_up):
    @functools.wraps(moto_sign_up)
    def sign_up(self):
        from moto.cognitoidp.models import UserStatus

        backend, pool, client = _client(self._get_param("ClientId"))
        _writable(client, [a.get("Name") for a in self._get_param("UserAttributes", []) or []])
        answer = moto_sign_up(self)
        user = pool._get_user(self._get_param("Username"))
        if user is not None and user.status == UserStatus.UNCONFIRMED:
            answer.result["CodeDeliveryDetails"] = _issue(backend, pool, user, "sign_up")
        return answer
    return sign_up


def _confirm_sign_up(moto_confirm_sign_up):
    @functools.wraps(moto_confirm_sign_up)
    def confirm_sign_up(self):
        from moto.cognitoidp.exceptions import NotAuthorizedError, UserNotFoundError
        from moto.cognitoidp.models import UserStatus

        backend, pool, _ = _client(self._get_param("ClientId"))
        user = pool._get_user(self._get_param("Username"))
        if user is None:
            raise UserNotFoundError("Username/client id combination not found.")
        if user.status != UserStatus.UNCONFIRMED:
            raise NotAuthorizedError(f"User cannot be confirmed. Current status is "
                                     f"{getattr(user.status, 'value', user.status)}")
        _check(pool, user, "sign_up", self._get_param("ConfirmationCode"),
               SIGN_UP_CODE_SECONDS)
        answer = moto_confirm_sign_up(self)
        # The code reached the phone: Cognito marks the number verified.
        if "phone_number" in user.attribute_lookup:
            user.update_attributes([{"Name": "phone_number_verified", "Value": "true"}])
        return answer
    return confirm_sign_up


def _resend_confirmation_code(self):
    from moto.cognitoidp.exceptions import InvalidParameterException, UserNotFoundError
    from moto.cognitoidp.models import UserStatus
    from moto.core.responses import ActionResult

    backend, pool, _ = _client(self._get_param("ClientId"))
    user = pool._get_user(self._get_param("Username"))
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status != UserStatus.UNCONFIRMED:
        raise InvalidParameterException("User is already confirmed.")
    return ActionResult({"CodeDeliveryDetails": _issue(backend, pool, user, "sign_up")})


def _forgot_password(self):
    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.core.responses import ActionResult

    backend, pool, _ = _client(self._get_param("ClientId"))
    user = pool._get_user(self._get_param("Username"))
    if user is None:
        # PreventUserExistenceErrors: an unknown account looks like any other.
        return ActionResult({"CodeDeliveryDetails": {
            "Destination": "+*******0000", "DeliveryMedium": "SMS",
            "AttributeName": "phone_number"}})
    if user.attribute_lookup.get("phone_number_verified") != "true":
        raise InvalidParameterException("Cannot reset password for the user as there is no "
                                        "registered/verified email or phone_number")
    return ActionResult({"CodeDeliveryDetails": _issue(backend, pool, user, "password")})


def _confirm_forgot_password(moto_confirm_forgot_password):
    @functools.wraps(moto_confirm_forgot_password)
    def confirm_forgot_password(self):
        from moto.cognitoidp.exceptions import ExpiredCodeException

        backend, pool, _ = _client(self._get_param("ClientId"))
        user = pool._get_user(self._get_param("Username"))
        if user is None:
            raise ExpiredCodeException(EXPIRED_CODE)
        _check(pool, user, "password", self._get_param("ConfirmationCode"),
               PASSWORD_CODE_SECONDS)
        backend._validate_password(pool.id, self._get_param("Password"))
        user.confirmation_code = None
        return moto_confirm_forgot_password(self)
    return confirm_forgot_password


def _update_user_attributes(moto_update):
    @functools.wraps(moto_update)
    def update_user_attributes(self):
        backend, pool, client, user = _token(self._get_param("AccessToken"))
        names = [a.get("Name") for a in self._get_param("UserAttributes", []) or []]
        _writable(client, names)
        _mutable(pool, user, names)
        return moto_update(self)
    return update_user_attributes


def _admin_update_user_attributes(moto_update):
    @functools.wraps(moto_update)
    def admin_update_user_attributes(self):
        pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
        user = pool._get_user(self._get_param("Username"))
        _mutable(pool, user, [a.get("Name") for a in
                              self._get_param("UserAttributes", []) or []])
        return moto_update(self)
    return admin_update_user_attributes
