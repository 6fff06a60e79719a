"""The staff sign-in of the local stack, from the template's own definitions (infra/resources.json):
the staff user pool and its web client, the identity pool federating it, its authenticated role
(execute-api:Invoke on the staff routes only) and the role attachment; then one user per person
of the staff directory (username = staff id, one demo password for all, already permanent: no
first-sign-in challenge) and the binding of each user's `sub` to their staff id in
StaffAccountsTable, with the operators' own provisioning (infra/staff.py, `python -m
infra.staff provision` in the cloud).

The identity pool is answered by local/identity_pool.py; the local API gateway accepts the
credentials it issues (local/gateway.py)."""
from __future__ import annotations

from dataclasses import dataclass

# What this module provisions (local/provision.py leaves these resources to it).
RESOURCES = ("StaffUserPool", "StaffWebClient", "StaffIdentityPool", "StaffSignedInRole",
             "StaffIdentityPoolRoles")
DEMO_PASSWORD = "Staff2026Demo"       # every staff member's, locally (local/stack.py prints it)
LOCAL_API = "local"                   # the local API's id in execute-api ARNs (its stage: api)


@dataclass
class StaffSignIn:
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    provider: str                     # the identity pool's login key for the user pool
    role_arn: str
    members: int = 0

    def description(self, region: str, endpoint: str) -> dict:
        """stack.json's `staff`: what a client needs to sign a staff member in."""
        from .identity_pool import EXPIRE_PATH

        return {"region": region, "endpoint": endpoint, "user_pool_id": self.user_pool_id,
                "client_id": self.client_id, "identity_pool_id": self.identity_pool_id,
                "login_provider": self.provider, "role_arn": self.role_arn,
                "demo_password": DEMO_PASSWORD, "members": self.members,
                "expire_credentials_url": endpoint + EXPIRE_PATH}


def provision(client, resources: dict, region: str, refs: dict, arns: dict,
              accounts_table: str) -> StaffSignIn:
    """`client(service)` signs as the operator; `refs` and `arns` resolve the template's
    references to the local stack's resources (local/provision.py)."""
    import json

    from chalicelib import catalog

    from .provision import named, resolve

    def role(name: str, trust: dict, policies: list, extra: dict) -> str:
        known = {**refs, **extra}
        iam = client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            resolve(trust, known, arns, region)))["Role"]["Arn"]
        for policy in policies:
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(resolve(policy["PolicyDocument"],
                                                                  known, arns, region)))
        return arn

    idp, identity = client("cognito-idp"), client("cognito-identity")
    pool = resources["StaffUserPool"]["Properties"]
    policies = pool["Policies"]
    user_pool_id = idp.create_user_pool(
        PoolName=named(pool["UserPoolName"]), Policies=policies,
        AdminCreateUserConfig=pool["AdminCreateUserConfig"],
        UsernameConfiguration=pool["UsernameConfiguration"],
        Schema=pool["Schema"])["UserPool"]["Id"]
    web = resources["StaffWebClient"]["Properties"]
    client_id = idp.create_user_pool_client(
        UserPoolId=user_pool_id, ClientName=web["ClientName"], GenerateSecret=False,
        ExplicitAuthFlows=web["ExplicitAuthFlows"], ReadAttributes=web["ReadAttributes"],
    )["UserPoolClient"]["ClientId"]
    provider = f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"
    spec = resources["StaffIdentityPool"]["Properties"]
    identity_pool_id = identity.create_identity_pool(
        IdentityPoolName=named(spec["IdentityPoolName"]),
        AllowUnauthenticatedIdentities=spec["AllowUnauthenticatedIdentities"],
        CognitoIdentityProviders=[{
            "ProviderName": provider, "ClientId": client_id,
            "ServerSideTokenCheck": p["ServerSideTokenCheck"]}
            for p in spec["CognitoIdentityProviders"]])["IdentityPoolId"]
    signed_in = resources["StaffSignedInRole"]["Properties"]
    role_arn = role(named({"Fn::Sub": "${AWS::StackName}-StaffSignedInRole"}),
                    signed_in["AssumeRolePolicyDocument"], signed_in["Policies"],
                    {"StaffIdentityPool": identity_pool_id, "RestAPI": LOCAL_API})
    roles = resources["StaffIdentityPoolRoles"]["Properties"]["Roles"]
    identity.set_identity_pool_roles(IdentityPoolId=identity_pool_id,
                                     Roles={kind: role_arn for kind in roles})
    from infra.staff import provision_members

    directory = catalog.published().directory()
    provision_members(idp, client("dynamodb"), user_pool_id, accounts_table, provider, directory,
                      password=DEMO_PASSWORD)
    return StaffSignIn(user_pool_id, client_id, identity_pool_id, provider, role_arn,
                       len(directory))


def method_arn(region: str, account: str, method: str, path: str) -> str:
    """The execute-api ARN of a local request, as API Gateway names the method it authorises."""
    return f"arn:aws:execute-api:{region}:{account}:{LOCAL_API}/api/{method.upper()}{path}"


def may_invoke(issued, region: str, account: str, method: str, path: str) -> bool:
    """Whether the issued credentials' role allows execute-api:Invoke on the method, as IAM
    decides it for API Gateway's IAM authorization (an explicit deny wins)."""
    from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, PermissionResult

    key = AssumedRoleAccessKey(account, "aws", issued.access_key_id,
                               {"X-Amz-Security-Token": issued.session_token})
    allowed = False
    for policy in key.collect_policies():
        result = IAMPolicy(policy).is_action_permitted(
            "execute-api:Invoke", method_arn(region, account, method, path))
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed


def federate_oidc(endpoint: str, region: str, operator: tuple[str, str], made_staff: StaffSignIn,
                  environment: dict, issuer: str, client_id: str) -> str:
    """The government OA single sign-on, federated into the staff identity pool beside the staff
    user pool, as the China template does without the user pool (infra/staff.py's
    `federate_oidc`): an IAM OpenID Connect provider for the issuer, named among the pool's
    OpenIdConnectProviderARNs, and the functions told to accept its sign-ins and the website
    where to send staff. Returns the provider's ARN. Which staff member an OA subject is stays
    the operators' binding in StaffAccountsTable (docs/deployment.md)."""
    import boto3

    keys = {"aws_access_key_id": operator[0], "aws_secret_access_key": operator[1],
            "region_name": region, "endpoint_url": endpoint}
    arn = boto3.client("iam", **keys).create_open_id_connect_provider(
        Url=issuer, ClientIDList=[client_id], ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    identity = boto3.client("cognito-identity", **keys)
    pool = identity.describe_identity_pool(IdentityPoolId=made_staff.identity_pool_id)
    pool.pop("ResponseMetadata", None)
    identity.update_identity_pool(**{**pool, "OpenIdConnectProviderARNs": [arn]})
    environment.update({"STAFF_OIDC_ISSUER": issuer, "STAFF_OIDC_CLIENT_ID": client_id,
                        "STAFF_SIGN_IN_PROVIDER": f"{made_staff.provider},{arn}"})
    return arn
