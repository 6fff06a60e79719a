"""Who signed a request, as API Gateway's IAM authorization verified it (requestContext.identity).

- **A staff member** signs with the short-lived credentials the staff identity pool gave them
  after they signed in (the staff user pool, or in China the government OA single sign-on). API
  Gateway names the identity pool (`cognitoIdentityPoolId`), says the identity is authenticated
  (`cognitoAuthenticationType`) and hands over the provider and the subject the identity pool
  verified (`cognitoAuthenticationProvider`, e.g.
  `cognito-idp.<region>.amazonaws.com/<pool>,cognito-idp.<region>.amazonaws.com/<pool>:CognitoSignIn:<sub>`).
  The subject is bound to a staff member of the directory (StaffAccountsTable); the caller is
  that person, acting for their department, agent point or supervision office.
- **A system** signs with an IAM user's long-lived key under `/approval/system/`: the 12345
  hotline's system (`/approval/system/hotline/<name>`), a department's own business system
  (`/approval/system/department/<DEPT>/<name>`). It acts as the named system account.

Anything else is refused (403) before a service runs. Why a table and not the user pool: IAM
authorization hands the function no token claim (a `custom:staff_id` claim never reaches it),
AdminGetUser would cost a user pool call per request and does not exist where user pools are
not offered (China), and the binding table serves both sign-ins alike; a deleted binding ends a
staff member's access at once, whatever credentials they still hold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain import rights
from ..domain.cases import Caller
from ..domain.errors import Forbidden

SYSTEM_PATH = ("user", "approval", "system")


class StaffAccounts(Protocol):
    def staff_id_of(self, subject: str) -> str | None: ...


@dataclass(frozen=True)
class SignIn:
    """What the identity pool verified: the provider that signed the person in and its subject."""
    pool: str
    identity_id: str
    provider: str
    subject: str


def sign_in_of(identity: dict) -> SignIn | None:
    """The staff sign-in behind identity-pool credentials, or None for any other signer."""
    pool = identity.get("cognitoIdentityPoolId")
    if not pool:
        return None
    if identity.get("cognitoAuthenticationType") != "authenticated":
        raise Forbidden("credentials of an unauthenticated identity call no route",
                        field="Authorization")
    named = (identity.get("cognitoAuthenticationProvider") or "").rsplit(",", 1)[-1]
    head, _, subject = named.rpartition(":")
    provider = head.rsplit(":", 1)[0] if ":" in head else head
    if not provider or not subject:
        raise Forbidden("the identity pool named no provider and subject for these credentials",
                        field="Authorization")
    return SignIn(pool, identity.get("cognitoIdentityId") or "", provider, subject)


def signed_caller(context: dict, catalog, accounts: StaffAccounts, identity_pool: str,
                  provider: str | None = None) -> Caller:
    """The verified signer of a SigV4 request: a staff member or a named system account."""
    identity = context.get("identity") or {}
    sign_in = sign_in_of(identity)
    if sign_in is not None:
        if sign_in.pool != identity_pool:
            raise Forbidden(f"credentials of identity pool {sign_in.pool} call no route of "
                            "this system", field="Authorization")
        if provider and sign_in.provider not in provider.split(","):
            raise Forbidden(f"a sign-in by {sign_in.provider} is not a staff sign-in of this "
                            "system", field="Authorization")
        staff_id = accounts.staff_id_of(sign_in.subject)
        staff = catalog.staff(staff_id) if staff_id else None
        if staff is None:
            raise Forbidden("this sign-in is bound to no staff member of the directory",
                            field="Authorization")
        return Caller.of_staff(staff)
    arn = identity.get("userArn") or ""
    parts = arn.split(":", 5)[-1].split("/")
    if tuple(parts[:3]) == SYSTEM_PATH and len(parts) == 5 and parts[3] == "hotline":
        return Caller("hotline", parts[4], system_role=rights.HOTLINE_SYSTEM)
    if tuple(parts[:3]) == SYSTEM_PATH and len(parts) == 6 and parts[3] == "department" \
            and parts[4] in catalog.departments:
        return Caller("department", parts[4], account=parts[5],
                      system_role=rights.DEPARTMENT_SYSTEM)
    raise Forbidden("sign in as a staff member (or sign as a system account) to call this "
                    f"route; the request was signed by {arn or 'an unknown key'}",
                    field="Authorization")


@dataclass(frozen=True)
class StaffSignIns:
    """The staff identity pool and the bindings of its sign-ins to staff members."""
    accounts: StaffAccounts
    identity_pool: str
    provider: str | None = None     # the providers the pool trusts (comma-separated), if known

    def caller(self, context: dict, catalog) -> Caller:
        return signed_caller(context, catalog, self.accounts, self.identity_pool, self.provider)


class StaticStaffAccounts:
    """Bindings held in memory (tests)."""

    def __init__(self, bindings: dict[str, str] | None = None):
        self.bindings = dict(bindings or {})

    def staff_id_of(self, subject: str) -> str | None:
        return self.bindings.get(subject)


def staff_web_config(environ) -> dict:
    """Where the website signs a staff member in (web-config.json's `staff`): the staff user
    pool's client and the identity pool (global), or the OA single sign-on and the identity pool
    (China), with the endpoints of Cognito's APIs (the local stack's own, locally)."""
    region = environ.get("AWS_REGION", "us-east-1")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    local = environ.get("COGNITO_ENDPOINT")
    config = {"region": region, "identity_pool_id": environ.get("STAFF_IDENTITY_POOL", ""),
              "identity_endpoint": local or f"https://cognito-identity.{region}.{suffix}/"}
    if environ.get("STAFF_OIDC_ISSUER"):
        config["oidc"] = {"issuer": environ["STAFF_OIDC_ISSUER"],
                          "client_id": environ.get("STAFF_OIDC_CLIENT_ID", "")}
    if environ.get("STAFF_CLIENT_ID"):          # a staff user pool (not in China's regions)
        config.update({"client_id": environ["STAFF_CLIENT_ID"],
                       "login_provider": environ.get("STAFF_SIGN_IN_PROVIDER", "").split(",")[0],
                       "endpoint": local or f"https://cognito-idp.{region}.{suffix}/"})
    return config
