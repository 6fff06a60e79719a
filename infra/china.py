"""The China variant of the template (`python -m infra.build --variant china`, build/cloud-cn).

AWS's China regions offer neither Cognito user pools nor SNS text messages, and CloudFormation
refuses a resource type a region lacks even under a false condition, so China gets a template of
its own, built from the same sources. `apply` runs on the finished global template and:

- citizens sign in with the province's unified identity platform (OpenID Connect): the app is
  packaged with CITIZEN_SIGN_IN=oidc, so its citizen routes use the Lambda authorizer
  `citizen_sign_in` (app.py, chalicelib/adapters/oidc.py) instead of the Cognito authorizer;
  the user pool, its client and everything that named them are removed;
- text messages go through a domestic SMS gateway's HTTP API (chalicelib/adapters/notifier.py)
  whose access key the functions read from SSM or Secrets Manager instead of publishing to SNS;
- staff sign in with the government OA single sign-on (OpenID Connect), federated by the staff
  identity pool in place of the staff user pool (infra/staff.py); identity pools are offered in
  Beijing (cn-north-1), not in Ningxia, so this template deploys in Beijing;
- the API is REGIONAL (edge-optimized endpoints are not offered there);
- no resource of a type CloudFormation lacks there (UNAVAILABLE) is left, nor what only served
  one (an IAM role only such a resource used, a condition or parameter only they named): window
  cameras' Kinesis Video streams, for one, are the hall's own there (CameraStreams=exists).

Everything the deployment needs to know comes in as parameters (PARAMETERS below), each with
the pattern it must match (infra/parameters.py checks given values at `make package`)."""
from __future__ import annotations

from infra import roles, staff

# The authorizer function as `chalice package` names it (app.py's citizen_sign_in).
AUTHORIZER = "CitizenSignIn"

HTTPS_URL = r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?"

PARAMETERS = {
    "OidcIssuer": {
        "Type": "String",
        "Description": "Issuer (iss) of the identity platform's ID tokens, e.g. "
                       "https://id.ah.gov.cn/oidc",
        "AllowedPattern": HTTPS_URL,
        "ConstraintDescription": "an https:// URL without query or fragment"},
    "OidcClientId": {
        "Type": "String",
        "Description": "This application's client id at the identity platform (the ID "
                       "token's aud)",
        "AllowedPattern": r"[A-Za-z0-9][A-Za-z0-9._~:@-]{0,254}",
        "ConstraintDescription": "1 to 255 letters, digits or . _ ~ : @ -"},
    "OidcJwksUrl": {
        "Type": "String",
        "Description": "Where the identity platform publishes its signing keys (jwks_uri of "
                       "its discovery document)",
        "AllowedPattern": HTTPS_URL + r"(\?[A-Za-z0-9._~%&=+-]*)?",
        "ConstraintDescription": "an https:// URL"},
    "OidcIdNumberClaim": {
        "Type": "String", "Default": "id_number",
        "Description": "The ID token claim carrying the citizen's identity number",
        "AllowedPattern": r"[A-Za-z_][A-Za-z0-9_:.-]{0,63}",
        "ConstraintDescription": "a claim name: a letter or _, then letters, digits, _ : . -"},
    "SmsGatewayUrl": {
        "Type": "String", "Default": "https://dysmsapi.aliyuncs.com/",
        "Description": "The SMS gateway's SendSms endpoint (a government cloud's own endpoint "
                       "where it has one)",
        "AllowedPattern": HTTPS_URL,
        "ConstraintDescription": "an https:// URL"},
    "SmsGatewayCredentials": {
        "Type": "String",
        "Description": "Where the gateway's access key is kept, as JSON {\"access_key_id\", "
                       "\"access_key_secret\"}: ssm:/path/name (a SecureString parameter) or "
                       "secretsmanager:name (a secret)",
        "AllowedPattern": r"ssm:(/[A-Za-z0-9_.-]+)+|secretsmanager:[A-Za-z0-9/_+=.@-]{1,500}",
        "ConstraintDescription": "ssm:/path/name of a SecureString parameter, or "
                                 "secretsmanager:name of a secret"},
    "SmsSignName": {
        "Type": "String",
        "Description": "The approved signature (签名) the texts are sent under",
        "AllowedPattern": "[\\u4e00-\\u9fa5A-Za-z0-9]{2,20}",
        "ConstraintDescription": "2 to 20 Chinese characters, letters or digits"},
    "SmsTemplateCode": {
        "Type": "String",
        "Description": "The approved template (模板) the texts are sent with; it has one "
                       "variable, SmsTemplateVariable, that carries the text",
        "AllowedPattern": r"SMS_[0-9]{3,20}",
        "ConstraintDescription": "a template code such as SMS_154950909"},
    "SmsTemplateVariable": {
        "Type": "String", "Default": "content",
        "Description": "The template's variable that carries the text",
        "AllowedPattern": r"[A-Za-z][A-Za-z0-9_]{0,31}",
        "ConstraintDescription": "a letter, then up to 31 letters, digits or _"},
}

ENVIRONMENT = {
    "CITIZEN_SIGN_IN": "oidc",
    "OIDC_ISSUER": {"Ref": "OidcIssuer"},
    "OIDC_AUDIENCE": {"Ref": "OidcClientId"},
    "OIDC_JWKS_URL": {"Ref": "OidcJwksUrl"},
    "OIDC_ID_NUMBER_CLAIM": {"Ref": "OidcIdNumberClaim"},
    "SMS_GATEWAY": "http",
    "SMS_GATEWAY_URL": {"Ref": "SmsGatewayUrl"},
    "SMS_GATEWAY_CREDENTIALS": {"Ref": "SmsGatewayCredentials"},
    "SMS_SIGN_NAME": {"Ref": "SmsSignName"},
    "SMS_TEMPLATE_CODE": {"Ref": "SmsTemplateCode"},
    "SMS_TEMPLATE_VARIABLE": {"Ref": "SmsTemplateVariable"},
}

_CREDENTIALS_NAME = {"Fn::Select": [1, {"Fn::Split": [":", {"Ref": "SmsGatewayCredentials"}]}]}
CONDITIONS = {"SmsCredentialsInSsm": {"Fn::Equals": [
    {"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "SmsGatewayCredentials"}]}]}, "ssm"]}}
# Reading the gateway's key, in place of sns:Publish: the one parameter or secret named (with
# the AWS managed key aws/ssm or aws/secretsmanager no kms:Decrypt grant is needed).
SMS_CREDENTIALS = {
    "Sid": "SmsGatewayCredentials", "Effect": "Allow",
    "Action": {"Fn::If": ["SmsCredentialsInSsm", ["ssm:GetParameter"],
                          ["secretsmanager:GetSecretValue"]]},
    "Resource": {"Fn::If": [
        "SmsCredentialsInSsm",
        {"Fn::Sub": ["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                     "parameter${Name}", {"Name": _CREDENTIALS_NAME}]},
        {"Fn::Sub": ["arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
                     "secret:${Name}-??????", {"Name": _CREDENTIALS_NAME}]}]}}

# Resource types CloudFormation does not offer in cn-north-1 and cn-northwest-1 (cfn-lint's
# region specifications, E3006).
UNAVAILABLE = ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient",
               "AWS::Cognito::UserPoolDomain", "AWS::Cognito::UserPoolGroup",
               "AWS::KinesisVideo::Stream")


def apply(template: dict) -> None:
    """Turns the finished global template into the China variant, in place."""
    resources = template["Resources"]
    removed = _remove_unavailable(template)
    template["Outputs"] = {name: output for name, output in template.get("Outputs", {}).items()
                           if not _names_any(output, removed)}
    functions = [r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        variables = function["Properties"].setdefault("Environment", {}).setdefault(
            "Variables", {})
        for key in [k for k, v in variables.items() if _names_any(v, removed)]:
            del variables[key]
        variables.update(ENVIRONMENT)
        if function["Properties"].get("Handler") == "app.citizen_sign_in":
            # the authorizer reads no table, bucket or queue: it is told of none
            for key in [k for k in variables if not k.startswith(("POWERTOOLS_", "OIDC_",
                                                                   "CITIZEN_SIGN_IN"))]:
                del variables[key]
    api = resources["RestAPI"]["Properties"]
    api["EndpointConfiguration"] = "REGIONAL"
    security = api["DefinitionBody"].get("securityDefinitions", {})
    for name in [n for n, d in security.items() if _names_any(d, removed)]:
        del security[name]
    _grant_sms_credentials(resources)
    _drop_statements(resources, removed)
    staff.federate_oidc(template)   # staff sign in with the OA single sign-on (infra/staff.py)
    _drop_unused(template, removed)
    template.setdefault("Parameters", {}).update(PARAMETERS)
    template.setdefault("Conditions", {}).update(CONDITIONS)
    left = [name for name in removed if _names_any(template, {name})]
    if left:
        raise SystemExit(f"the China template still refers to {sorted(left)}")
    if not any(r["Type"] == "AWS::Serverless::Function" and r["Properties"].get("Handler") ==
               "app.citizen_sign_in" for r in resources.values()):
        raise SystemExit("the China template has no citizen_sign_in authorizer: package the "
                         "app with CITIZEN_SIGN_IN=oidc")


def apply_roles(resources: dict) -> None:
    """infra/roles.py's roles, and one for the authorizer, which only this variant has: it calls
    no AWS API (it fetches the provider's public keys over HTTPS), so its role grants its own
    log group only."""
    if AUTHORIZER in roles.POLICIES or AUTHORIZER not in resources:
        roles.apply(resources)
        return
    authorizer = resources.pop(AUTHORIZER)
    roles.apply(resources)
    resources[AUTHORIZER] = authorizer
    props = authorizer["Properties"]
    props.pop("Policies", None)
    props["FunctionName"] = {"Fn::Sub": f"${{AWS::StackName}}-{AUTHORIZER}"}
    props["Role"] = {"Fn::GetAtt": [roles.role_name(AUTHORIZER), "Arn"]}
    resources[roles.role_name(AUTHORIZER)] = {"Type": "AWS::IAM::Role", "Properties": {
        "Description": f"The {AUTHORIZER} function's own role (infra/china.py)",
        "AssumeRolePolicyDocument": roles.LAMBDA_TRUST,
        "Policies": [{"PolicyName": f"{AUTHORIZER}-least-privilege", "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [roles.logs(AUTHORIZER)]}}]}}


def _remove_unavailable(template: dict) -> set[str]:
    """Removes the resources of UNAVAILABLE types, then every IAM role that only they used, and
    every DependsOn on them; returns the logical ids removed."""
    resources = template["Resources"]
    removed = {name for name, r in resources.items() if r["Type"] in UNAVAILABLE}
    served = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"
              and any(_names_any(resources[user], {name}) for user in removed)}
    for name in removed:
        del resources[name]
    for name in served:
        if not any(_names_any(r, {name}) for other, r in resources.items() if other != name):
            del resources[name]
            removed.add(name)
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in removed:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in removed]
            if not resource["DependsOn"]:
                del resource["DependsOn"]
    return removed


def _drop_statements(resources: dict, removed: set[str]) -> None:
    """The roles' statements on removed resources (the API's on the citizens' user pool: here
    the identity provider, not a real-name step of ours, verifies the identity number)."""
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            document = policy["PolicyDocument"]
            document["Statement"] = [s for s in document["Statement"]
                                     if not _names_any(s, removed)]


def _drop_unused(template: dict, removed: set[str]) -> None:
    """Conditions only the removed resources used, then parameters nothing names any more."""
    conditions = template.get("Conditions", {})
    for name in [n for n in conditions if not _uses_condition(template, n)]:
        del conditions[name]
    if "Conditions" in template and not conditions:
        del template["Conditions"]
    parameters = template.get("Parameters", {})
    body = {k: v for k, v in template.items() if k != "Parameters"}
    for name in [n for n in parameters if not _names_any(body, {n})]:
        del parameters[name]


def _uses_condition(node, name: str) -> bool:
    if isinstance(node, dict):
        if node.get("Condition") == name or (isinstance(node.get("Fn::If"), list)
                                             and node["Fn::If"][:1] == [name]):
            return True
        return any(_uses_condition(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_uses_condition(v, name) for v in node)
    return False


def _grant_sms_credentials(resources: dict) -> None:
    """Every role allowed to send texts through SNS reads the gateway's key instead."""
    granted = 0
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for i, statement in enumerate(statements):
                actions = statement.get("Action")
                actions = [actions] if isinstance(actions, str) else actions or []
                if "sns:Publish" in actions and statement.get("Resource") == "*":
                    statements[i] = dict(SMS_CREDENTIALS)
                    granted += 1
    if not granted:
        raise SystemExit("no function role sends text messages (sns:Publish on *, "
                         "infra/roles.py): none would be allowed to read the SMS gateway's key")


def _names_any(node, names: set[str]) -> bool:
    """Whether `node` refers to one of the logical ids (Ref, GetAtt or a ${} in Sub)."""
    if isinstance(node, dict):
        if node.get("Ref") in names:
            return True
        target = node.get("Fn::GetAtt")
        if isinstance(target, list) and target and target[0] in names:
            return True
        if isinstance(target, str) and target.split(".")[0] in names:
            return True
        return any(_names_any(v, names) for v in node.values())
    if isinstance(node, list):
        return any(_names_any(v, names) for v in node)
    if isinstance(node, str):
        return any(f"${{{name}" in node for name in names)
    return False
