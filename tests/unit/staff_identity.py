"""The request context API Gateway builds for a SigV4 request, as the app reads it: signed with
a staff member's identity-pool credentials, or with a system account's key."""
from chalicelib import bootstrap, catalog
from chalicelib.adapters.identity import StaffSignIns, StaticStaffAccounts
from chalicelib.domain import rights

POOL = "us-east-1:7f1c2d3e-0000-4000-8000-000000000001"
PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_StaffPool"
HOTLINE = "arn:aws:iam::123456789012:user/approval/system/hotline/BZ-12345"
DEPARTMENT_SYSTEM = "arn:aws:iam::123456789012:user/approval/system/department/SW/SW-JSXT"


def sub_of(staff_id: str) -> str:
    return f"sub-{staff_id.lower()}"


def sign_ins() -> StaffSignIns:
    """Every staff member of the directory bound to a sign-in of the staff pool."""
    directory = catalog.published().directory()
    return StaffSignIns(StaticStaffAccounts({sub_of(s.staff_id): s.staff_id for s in directory}),
                        POOL, PROVIDER)


def use_sign_ins(monkeypatch) -> None:
    monkeypatch.setattr(bootstrap, "_staff_sign_ins", sign_ins())


def staff_identity(staff_id: str, pool: str = POOL, provider: str = PROVIDER) -> dict:
    """requestContext.identity of a request signed with the staff member's credentials."""
    return {"sourceIp": "203.0.113.9", "cognitoIdentityPoolId": pool,
            "cognitoIdentityId": f"us-east-1:identity-{staff_id.lower()}",
            "cognitoAuthenticationType": "authenticated",
            "cognitoAuthenticationProvider":
                f"{provider},{provider}:CognitoSignIn:{sub_of(staff_id)}",
            "userArn": "arn:aws:sts::123456789012:assumed-role/approval-StaffSignedInRole/"
                       "CognitoIdentityCredentials",
            "accessKey": "ASIAEXAMPLESTAFF0001"}


def system_identity(arn: str) -> dict:
    return {"sourceIp": "203.0.113.9", "userArn": arn, "accessKey": "AKIAEXAMPLESYSTEM001"}


def holder(kind: str, method: str, path: str) -> str:
    """A staff member of the directory allowed to call the route (for routes of a staff kind)."""
    wanted = rights.route_right(method, path)
    for person in catalog.published().directory():
        held = rights.rights_of(person.role)
        if rights.KIND[person.role] == kind and (
                wanted in held or wanted == rights.BY_DECISION
                and held & {rights.PRE_REVIEW, *rights.DECISION_RIGHTS.values()}):
            return person.staff_id
    raise LookupError(f"nobody may call {method} {path}")
