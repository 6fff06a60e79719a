"""The staff sign-in in both templates (infra/resources.json, infra/staff.py): a staff user pool
(global) or the government OA single sign-on (China) federated through one identity pool whose
authenticated role may invoke the staff routes and nothing else; long-lived keys only for
systems."""
import json

import pytest

STAFF_ROUTES = {"*/department/*", "*/agent/*", "GET/audit/*", "*/supervision/*", "GET/staff/*"}


def invoked(statement) -> set[str]:
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    return {r["Fn::Sub"].split("${RestAPI}/*/", 1)[1] for r in resources}


@pytest.mark.parametrize("variant", ["global", "china"])
def test_the_signed_in_role_invokes_the_staff_routes_only(templates, variant):
    resources = templates[variant]["Resources"]
    role = resources["StaffSignedInRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "cognito-identity.amazonaws.com:aud": {"Ref": "StaffIdentityPool"}}
    assert trust["Condition"]["ForAnyValue:StringLike"] == {
        "cognito-identity.amazonaws.com:amr": "authenticated"}
    [statement] = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == "execute-api:Invoke" and invoked(statement) == STAFF_ROUTES
    assert role["MaxSessionDuration"] == 3600
    pool = resources["StaffIdentityPool"]["Properties"]
    assert pool["AllowUnauthenticatedIdentities"] is False and pool["AllowClassicFlow"] is False
    attachment = resources["StaffIdentityPoolRoles"]["Properties"]
    assert attachment["Roles"] == {"authenticated": {"Fn::GetAtt": ["StaffSignedInRole", "Arn"]}}
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api["STAFF_IDENTITY_POOL"] == {"Ref": "StaffIdentityPool"}
    assert api["STAFF_ACCOUNTS_TABLE"] == {"Ref": "StaffAccountsTable"}


def test_global_staff_sign_in_to_an_admin_only_user_pool(templates):
    resources = templates["global"]["Resources"]
    pool = resources["StaffUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert resources["StaffUserPool"]["DeletionPolicy"] == "Retain"
    [provider] = resources["StaffIdentityPool"]["Properties"]["CognitoIdentityProviders"]
    assert provider == {"ProviderName": {"Fn::GetAtt": ["StaffUserPool", "ProviderName"]},
                        "ClientId": {"Ref": "StaffWebClient"}, "ServerSideTokenCheck": True}
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api["STAFF_SIGN_IN_PROVIDER"] == {"Fn::GetAtt": ["StaffUserPool", "ProviderName"]}


def test_china_staff_sign_in_through_the_oa_single_sign_on(templates):
    template = templates["china"]
    resources = template["Resources"]
    assert "StaffUserPool" not in resources and "StaffWebClient" not in resources
    pool = resources["StaffIdentityPool"]["Properties"]
    assert "CognitoIdentityProviders" not in pool
    assert pool["OpenIdConnectProviderARNs"] == [{"Ref": "StaffOidcProvider"}]
    provider = resources["StaffOidcProvider"]
    assert provider["Type"] == "AWS::IAM::OIDCProvider"
    assert provider["Properties"]["Url"] == {"Ref": "StaffOidcIssuer"}
    assert {"StaffOidcIssuer", "StaffOidcClientId", "StaffOidcThumbprint"} <= \
        set(template["Parameters"])
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api["STAFF_OIDC_ISSUER"] == {"Ref": "StaffOidcIssuer"}
    assert "STAFF_SIGN_IN_PROVIDER" not in api and "STAFF_CLIENT_ID" not in api


@pytest.mark.parametrize("variant", ["global", "china"])
def test_long_lived_keys_are_for_systems_only(templates, variant):
    groups = {name: r["Properties"] for name, r in templates[variant]["Resources"].items()
              if r["Type"] == "AWS::IAM::Group"}
    assert {name: g["Path"] for name, g in groups.items()} == {
        "HotlineCallers": "/approval/system/hotline/",
        "DepartmentSystemCallers": "/approval/system/department/"}
    [reads] = [s for p in groups["DepartmentSystemCallers"]["Policies"]
               for s in p["PolicyDocument"]["Statement"]]
    assert invoked(reads) == {"GET/department/*"}
    assert not [r for r in templates[variant]["Resources"].values()
                if r["Type"] == "AWS::IAM::User"]


def test_the_api_reads_only_the_bindings_of_the_staff_accounts_table(templates):
    from infra import roles

    statements = [s for function in roles.POLICIES for s in roles.role(function)["Properties"][
        "Policies"][0]["PolicyDocument"]["Statement"] if "StaffAccountsTable" in json.dumps(s)]
    assert statements == [{"Sid": "StaffAccountsTable", "Effect": "Allow",
                           "Action": ["dynamodb:GetItem"],
                           "Resource": [{"Fn::GetAtt": ["StaffAccountsTable", "Arn"]}]}]
