"""Who may do what (chalicelib/domain/rights.py), and who the caller is (chalicelib/adapters/
identity.py): roles from the directory's posts, the right of every signed route, every role
against every route, the scope rules, and the sign-in behind a request as API Gateway hands it
over. The rules alone here; tests/e2e/test_rights_matrix.py asks the same over HTTP."""
import json

import pytest
from chalice import IAMAuthorizer

import app as app_module
from chalicelib import catalog
from chalicelib.adapters.identity import StaticStaffAccounts, sign_in_of, signed_caller
from chalicelib.domain import rights
from chalicelib.domain.cases import Caller
from chalicelib.domain.catalog import Staff
from chalicelib.domain.errors import Forbidden

from .staff_identity import (DEPARTMENT_SYSTEM, HOTLINE, POOL, PROVIDER, staff_identity,
                             sub_of, system_identity, use_sign_ins)

PUBLISHED = catalog.published()


def signed_in(staff_id: str) -> Caller:
    return Caller.of_staff(PUBLISHED.staff(staff_id))


def signed_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app_module.app.routes.items()
            for method, entry in methods.items() if isinstance(entry.authorizer, IAMAuthorizer)}


# -- the directory ------------------------------------------------------------------------------
@pytest.mark.parametrize("staff_id, role, kind, principal", [
    ("SCJG-001", rights.WINDOW_CLERK, "department", "SCJG"),
    ("SCJG-002", rights.APPROVER, "department", "SCJG"),
    ("SCJG-003", rights.SECTION_CHIEF, "department", "SCJG"),
    ("SCJG-000", rights.CHIEF_REPRESENTATIVE, "department", "SCJG"),
    ("BZQC-WLC-001", rights.AGENT_OPERATOR, "agent", "BZQC-WLC"),
    ("BZ-JJJC-001", rights.SUPERVISION_CLERK, "auditor", "BZ-JJJC"),
    ("BZ-JJJC-003", rights.SUPERVISION_HEAD, "auditor", "BZ-JJJC"),
    ("BZGY-JJJC-002", rights.SUPERVISION_HEAD, "auditor", "BZGY-JJJC"),
])
def test_a_role_comes_from_the_post_and_the_place(staff_id, role, kind, principal):
    caller = signed_in(staff_id)
    assert (caller.staff.role, caller.role, caller.principal) == (role, kind, principal)
    assert caller.actor == f"staff:{staff_id}"


def test_every_person_of_the_directory_has_one_id_and_a_role_of_a_staff_kind():
    people = PUBLISHED.directory()
    ids = [p.staff_id for p in people]
    assert len(ids) == len(set(ids)) > 70
    assert {p.role for p in people} == set(rights.STAFF_ROLES)
    for person in people:
        assert rights.KIND[person.role] in ("department", "agent", "auditor"), person
        assert person.hall in PUBLISHED.halls, person
    offices = {h["supervision_office"]["code"] for h in PUBLISHED.halls.values()
               if h.get("supervision_office")}
    for office in offices:            # every office has a clerk and a head
        roles = {p.role for p in people if p.office == office}
        assert roles == {rights.SUPERVISION_CLERK, rights.SUPERVISION_HEAD}, office
    assert {p.agent_point for p in people if p.agent_point} == set(PUBLISHED.agent_points)


# -- routes and rights --------------------------------------------------------------------------
def test_every_signed_route_names_the_right_it_needs_and_no_other_route_does():
    assert set(rights.ROUTES) == signed_routes()
    assert set(rights.ROUTES.values()) - {rights.BY_DECISION, rights.ANY_STAFF} <= \
        {r for held in rights.RIGHTS.values() for r in held}


def test_every_right_is_held_by_some_role():
    held = {r for rs in rights.RIGHTS.values() for r in rs}
    assert set(rights.ROUTES.values()) - {rights.BY_DECISION, rights.ANY_STAFF} <= held
    assert {rights.PRE_REVIEW, *rights.DECISION_RIGHTS.values()} <= held


def holders(method, path):
    """Roles that may call the route (for a decision: any role holding a decision right)."""
    wanted = rights.ROUTES[(method, path)]
    if wanted == rights.ANY_STAFF:
        return set(rights.STAFF_ROLES)
    deciding = {rights.PRE_REVIEW, *rights.DECISION_RIGHTS.values()}
    return {role for role, held in rights.RIGHTS.items()
            if (wanted in held if wanted != rights.BY_DECISION else held & deciding)}


@pytest.mark.parametrize("route", sorted(rights.ROUTES))
@pytest.mark.parametrize("role", sorted(rights.RIGHTS))
def test_each_role_against_each_route(route, role):
    method, path = route
    if role in rights.STAFF_ROLES:      # a person, signed in as themself
        caller = Caller(rights.KIND[role], "X",
                        staff=Staff("P-1", "某某", "13800000000", "X", None, role=role))
    else:                               # a system, with its long-lived key
        caller = Caller(rights.KIND[role], "X", system_role=role, account="acct")
    if role in holders(method, path):
        rights.check_route(caller, method, path)
    else:
        with pytest.raises(rights.MissingRight) as refused:
            rights.check_route(caller, method, path)
        assert refused.value.status == 403 and refused.value.right in refused.value.message
        assert refused.value.to_dict()["right"] == refused.value.right


def test_what_each_role_may_do_in_short():
    assert holders("POST", "/department/cases") == {rights.WINDOW_CLERK}
    assert holders("GET", "/department/cards") == {rights.CHIEF_REPRESENTATIVE}
    assert holders("POST", "/supervision/orders") == {rights.SUPERVISION_CLERK}
    assert holders("POST", "/supervision/clips") == {rights.SUPERVISION_CLERK}
    assert holders("POST", "/supervision/cases/{case_id}/rating/appeal") == \
        {rights.SUPERVISION_HEAD}
    assert holders("GET", "/audit/cards") == {rights.SUPERVISION_CLERK, rights.SUPERVISION_HEAD}
    assert holders("POST", "/hotline/requests") == {rights.HOTLINE_SYSTEM}
    assert holders("POST", "/department/supervised-tasks/{task_id}/answer") == \
        {rights.SECTION_CHIEF, rights.CHIEF_REPRESENTATIVE}
    assert holders(*rights.DECISION_ROUTE) == {rights.WINDOW_CLERK, rights.APPROVER,
                                               rights.SECTION_CHIEF, rights.CHIEF_REPRESENTATIVE}


@pytest.mark.parametrize("step, decision, right", [
    ("acceptance", "accept", rights.PRE_REVIEW), ("acceptance", "refuse", rights.PRE_REVIEW),
    ("acceptance", "correction", rights.PRE_REVIEW),
    ("decision", "approve", rights.DECIDE_BRANCHES), ("decision", "deny", rights.DECIDE_BRANCHES),
    ("decision", "correction", rights.DECIDE_BRANCHES),
    ("decision", "extension_request", rights.DECIDE_BRANCHES),
    ("decision", "extension_approve", rights.APPROVE_EXTENSIONS),
    ("decision", "special_start", rights.RUN_SPECIAL_PROCEDURES),
    ("decision", "special_end", rights.RUN_SPECIAL_PROCEDURES),
])
def test_a_decision_needs_the_right_of_its_step_and_kind(step, decision, right):
    assert rights.decision_right(step, decision) == right


# -- scope ----------------------------------------------------------------------------------
def test_a_staff_member_acts_as_themself_never_in_a_colleagues_name():
    clerk = signed_in("SCJG-001")
    assert rights.acting_staff(clerk, {}).staff_id == "SCJG-001"
    assert rights.acting_staff(clerk, {"staff_id": "SCJG-001"}).staff_id == "SCJG-001"
    with pytest.raises(Forbidden) as refused:
        rights.acting_staff(clerk, {"staff_id": "SCJG-004"})
    assert refused.value.field == "staff_id"
    with pytest.raises(Forbidden) as refused:          # a system account is no person
        rights.acting_staff(Caller("department", "SW", account="SW-JSXT",
                                   system_role=rights.DEPARTMENT_SYSTEM), {})
    assert refused.value.field == "Authorization"


def test_an_extension_is_never_approved_by_the_one_who_asked():
    chief = signed_in("SCJG-003")
    with pytest.raises(Forbidden) as refused:
        rights.check_not_own_request({"staff_id": "SCJG-003"}, chief)
    assert "SCJG-003" in refused.value.message
    rights.check_not_own_request({"staff_id": "SCJG-002"}, chief)
    rights.check_not_own_request(None, chief)


def test_a_staff_member_acts_in_their_hall_and_below():
    district = signed_in("SCJG-006")                    # 谯城区's window
    rights.check_hall(district, "BZQCXG", PUBLISHED.halls_under("BZQC"), "case")
    with pytest.raises(Forbidden) as refused:
        rights.check_hall(district, "BZ", PUBLISHED.halls_under("BZQC"), "case")
    assert refused.value.field == "hall"


# -- who signed ------------------------------------------------------------------------------
def accounts():
    return StaticStaffAccounts({sub_of(p.staff_id): p.staff_id for p in PUBLISHED.directory()})


def caller_of(identity):
    return signed_caller({"identity": identity}, PUBLISHED, accounts(), POOL, PROVIDER)


def test_the_identity_pools_provider_string_names_the_sign_in():
    sign_in = sign_in_of(staff_identity("GA-002"))
    assert (sign_in.pool, sign_in.provider, sign_in.subject) == (POOL, PROVIDER, "sub-ga-002")
    assert caller_of(staff_identity("GA-002")).actor == "staff:GA-002"


@pytest.mark.parametrize("change, says", [
    ({"cognitoIdentityPoolId": "us-east-1:00000000-0000-4000-8000-00000000beef"},
     "identity pool"),
    ({"cognitoAuthenticationType": "unauthenticated"}, "unauthenticated"),
    ({"cognitoAuthenticationProvider": f"{PROVIDER},{PROVIDER}:CognitoSignIn:sub-nobody"},
     "bound to no staff member"),
    ({"cognitoAuthenticationProvider": "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other,"
                                       "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other:"
                                       "CognitoSignIn:sub-scjg-001"}, "not a staff sign-in"),
    ({"cognitoAuthenticationProvider": ""}, "no provider"),
])
def test_a_foreign_or_unknown_sign_in_is_refused(change, says):
    with pytest.raises(Forbidden) as refused:
        caller_of({**staff_identity("SCJG-001"), **change})
    assert says in refused.value.message and refused.value.field == "Authorization"


def test_systems_sign_as_named_system_accounts_and_nothing_else_signs():
    hotline = caller_of(system_identity(HOTLINE))
    assert (hotline.role, hotline.principal, hotline.grant_role) == \
        ("hotline", "BZ-12345", rights.HOTLINE_SYSTEM)
    system = caller_of(system_identity(DEPARTMENT_SYSTEM))
    assert (system.role, system.principal, system.actor) == ("department", "SW", "system:SW-JSXT")
    for arn in ("arn:aws:iam::123456789012:user/approval/department/SCJG",    # the old keys
                "arn:aws:iam::123456789012:user/approval/auditor/BZ-JJJC",
                "arn:aws:iam::123456789012:user/approval/system/department/NOPE/X",
                "arn:aws:sts::123456789012:assumed-role/approval-APIHandlerRole/x", ""):
        with pytest.raises(Forbidden):
            caller_of(system_identity(arn))


# -- at the edge: the route answers 403 naming the right, before any service runs -----------------
class Unreachable:
    """Stands in for every service: reaching one fails the test."""

    def __getattr__(self, name):
        return Unreachable()

    def __call__(self, *args, **kwargs):
        pytest.fail("a service was reached")


def edge(monkeypatch, identity, method, path, body=None, params=None):
    from chalicelib import bootstrap

    use_sign_ins(monkeypatch)
    for name in ("intake", "approval", "supervision", "performance"):
        monkeypatch.setattr(bootstrap, name, lambda: Unreachable())
    params = params or {}
    concrete = path
    for name, value in params.items():
        concrete = concrete.replace("{" + name + "}", value)
    event = {"resource": path, "path": concrete, "httpMethod": method,
             "headers": {"content-type": "application/json", "idempotency-key": "k-00000001"},
             "multiValueHeaders": {}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": params or None,
             "stageVariables": None, "isBase64Encoded": False,
             "body": json.dumps(body) if body is not None else None,
             "requestContext": {"resourcePath": path, "httpMethod": method, "path": concrete,
                                "requestId": "t", "stage": "api", "identity": identity}}
    answer = app_module.app(event, None)
    return answer["statusCode"], json.loads(answer["body"])


def test_same_department_wrong_role_is_refused_at_the_edge_naming_the_right(monkeypatch):
    status, answer = edge(monkeypatch, staff_identity("SCJG-002"), "POST", "/department/cases",
                          {"item": "SCJG-001"})
    assert status == 403 and answer["right"] == rights.REGISTER_WALK_INS
    status, answer = edge(monkeypatch, staff_identity("BZ-JJJC-003"), "POST",
                          "/supervision/orders", {"case_id": "x", "text": "y"})
    assert status == 403 and answer["right"] == rights.ISSUE_ORDERS
    status, answer = edge(monkeypatch, staff_identity("BZ-JJJC-001"), "POST",
                          "/supervision/cases/{case_id}/rating/appeal",
                          {"upheld": True, "reason": "x"}, {"case_id": "c1"})
    assert status == 403 and answer["right"] == rights.DECIDE_APPEALS
    status, answer = edge(monkeypatch, staff_identity("BZQC-WLC-001"), "GET",
                          "/department/tasks")
    assert status == 403 and answer["field"] == "Authorization" and "department" in \
        answer["message"]
