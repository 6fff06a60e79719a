"""The staff sign-in in both templates.

Every staff member (window clerks, approvers, section chiefs, chief representatives, agent
point operators, supervision offices' staff) signs in as themself; the staff identity pool turns
that sign-in into short-lived SigV4 credentials of its authenticated role (StaffSignedInRole:
execute-api:Invoke on the department, agent point and supervision routes, nothing else), and
the API maps the verified identity to the staff member (chalicelib/adapters/identity.py).

- **global** (infra/resources.json as it is): a staff user pool (administrators create the users;
  username = staff id) federated into the identity pool.
- **China** (`federate_oidc`, from infra/china.py): AWS's China regions offer identity pools
  (Beijing, cn-north-1) but no user pools, so the identity pool federates the government OA
  single sign-on through an IAM OpenID Connect provider: its issuer, this application's client
  id there and the issuer's certificate thumbprint are deploy parameters. The staff member's
  `sub` at the OA is bound to their staff id in StaffAccountsTable by the operators
  (docs/deployment.md). Identity pools are not offered in Ningxia (cn-northwest-1): the China
  template deploys in Beijing.
"""
from __future__ import annotations

HTTPS_URL = r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?"

PARAMETERS = {
    "StaffOidcIssuer": {
        "Type": "String",
        "Description": "Issuer (iss) of the government OA single sign-on's ID tokens, with which "
                       "staff sign in, e.g. https://oa.bozhou.gov.cn/oidc",
        "AllowedPattern": HTTPS_URL,
        "ConstraintDescription": "an https:// URL without query or fragment"},
    "StaffOidcClientId": {
        "Type": "String",
        "Description": "This application's client id at the OA single sign-on (the staff ID "
                       "token's aud)",
        "AllowedPattern": r"[A-Za-z0-9][A-Za-z0-9._~:@-]{0,254}",
        "ConstraintDescription": "1 to 255 letters, digits or . _ ~ : @ -"},
    "StaffOidcThumbprint": {
        "Type": "String",
        "Description": "SHA-1 thumbprint of the top certificate of the OA single sign-on's "
                       "TLS chain (IAM's OpenID Connect provider checks it)",
        "AllowedPattern": r"[0-9A-Fa-f]{40}",
        "ConstraintDescription": "40 hexadecimal digits"},
}

# What the website reads to sign staff in through the OA (app.py's web-config).
ENVIRONMENT = {"STAFF_OIDC_ISSUER": {"Ref": "StaffOidcIssuer"},
               "STAFF_OIDC_CLIENT_ID": {"Ref": "StaffOidcClientId"}}

PROVIDER = "StaffOidcProvider"


def federate_oidc(template: dict) -> None:
    """The China variant: the identity pool federates the OA single sign-on instead of the staff
    user pool (removed with every user pool), in place."""
    resources = template["Resources"]
    pool = resources["StaffIdentityPool"]["Properties"]
    pool.pop("CognitoIdentityProviders", None)
    pool["OpenIdConnectProviderARNs"] = [{"Ref": PROVIDER}]
    resources[PROVIDER] = {"Type": "AWS::IAM::OIDCProvider", "Properties": {
        "Url": {"Ref": "StaffOidcIssuer"},
        "ClientIdList": [{"Ref": "StaffOidcClientId"}],
        "ThumbprintList": [{"Ref": "StaffOidcThumbprint"}]}}
    template.setdefault("Parameters", {}).update(PARAMETERS)
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            variables = resource["Properties"]["Environment"]["Variables"]
            if "STAFF_IDENTITY_POOL" in variables:
                variables.update(ENVIRONMENT)


# -- giving staff their sign-in (the operators' tool; the local stack uses it too) ---------------
def provision_members(idp, dynamodb, user_pool_id: str, table: str, provider: str, directory,
                      password: str | None = None, at: str | None = None) -> dict[str, str]:
    """A user of the staff user pool for each person of the directory who has none yet
    (username: their staff id), and the binding of its `sub` to the staff id in
    StaffAccountsTable. With `password` every new user gets it as their permanent password (the
    local stack's demo); without, a temporary one they replace at their first sign-in, returned
    to hand over. Returns staff id → temporary password (empty when `password` was given)."""
    import secrets
    from datetime import datetime, timezone

    at = at or datetime.now(timezone.utc).isoformat()
    handed = {}
    for person in directory:
        try:
            user = idp.admin_get_user(UserPoolId=user_pool_id, Username=person.staff_id)
            attributes = user["UserAttributes"]
        except idp.exceptions.UserNotFoundException:
            temporary = password or ("Tmp-" + secrets.token_urlsafe(12) + "9a")
            attributes = idp.admin_create_user(
                UserPoolId=user_pool_id, Username=person.staff_id, MessageAction="SUPPRESS",
                TemporaryPassword=temporary,
                UserAttributes=[{"Name": "name", "Value": person.name}])["User"]["Attributes"]
            if password:
                idp.admin_set_user_password(UserPoolId=user_pool_id, Username=person.staff_id,
                                            Password=password, Permanent=True)
            handed[person.staff_id] = "" if password else temporary
        sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
        bind(dynamodb, table, sub, person.staff_id, provider, at)
    return handed


def bind(dynamodb, table: str, subject: str, staff_id: str, provider: str, at: str) -> None:
    """A sign-in's subject bound to a staff member (China: their `sub` at the OA)."""
    dynamodb.put_item(TableName=table, Item={
        "subject": {"S": subject}, "staff_id": {"S": staff_id},
        "provider": {"S": provider}, "bound_at": {"S": at}})


def _outputs(session, stack: str) -> dict[str, str]:
    described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main(argv=None) -> int:
    """python -m infra.staff provision --stack NAME            (global: users and bindings)
    python -m infra.staff bind --stack NAME --staff-id ID --subject SUB   (China: an OA sign-in)"""
    import argparse
    from datetime import datetime, timezone

    import boto3

    cli = argparse.ArgumentParser(prog="python -m infra.staff", description=main.__doc__)
    cli.add_argument("action", choices=("provision", "bind"))
    cli.add_argument("--stack", required=True)
    cli.add_argument("--region")
    cli.add_argument("--staff-id")
    cli.add_argument("--subject")
    args = cli.parse_args(argv)
    from chalicelib import catalog

    session = boto3.Session(region_name=args.region)
    outputs = _outputs(session, args.stack)
    table = outputs["StaffAccountsTableName"]
    dynamodb = session.client("dynamodb")
    now = datetime.now(timezone.utc).isoformat()
    if args.action == "bind":
        person = catalog.published().staff(args.staff_id or "")
        if person is None or not args.subject:
            cli.error("bind needs --staff-id of the directory and --subject (the OA's sub)")
        bind(dynamodb, table, args.subject, person.staff_id,
             outputs.get("StaffSignInProvider", "oidc"), now)
        print(f"{person.staff_id} ({person.name}) signs in as {args.subject}")
        return 0
    pool = outputs["StaffUserPoolId"]
    suffix = "amazonaws.com.cn" if session.region_name.startswith("cn-") else "amazonaws.com"
    provider = f"cognito-idp.{session.region_name}.{suffix}/{pool}"
    handed = provision_members(session.client("cognito-idp"), dynamodb, pool, table, provider,
                               catalog.published().directory(), at=now)
    for staff_id, temporary in sorted(handed.items()):
        print(f"{staff_id}\t{temporary}")       # hand over in person; changed at first sign-in
    print(f"{len(handed)} new sign-ins; every person of the directory is bound", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
