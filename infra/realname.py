"""The real-name step's identity verification service in the global template.

A citizen's identity number is set by the real-name step only (POST /me/real-name), once the
name and number have been checked against the identity register by an HTTPS verification
service (chalicelib/adapters/realname.py). Its address and where its key is kept are deploy
parameters; the API function, which alone takes the step, may read that one key.

The China variant has no such service: there the identity provider's verified claim is the
real-name step (infra/china.py, chalicelib/adapters/oidc.py)."""
from __future__ import annotations

from infra import roles
from infra.china import HTTPS_URL

PARAMETERS = {
    "RealNameServiceUrl": {
        "Type": "String",
        "Description": "The identity verification service the real-name step asks whether a "
                       "name and resident identity number belong together (POST JSON "
                       "{name, id_number} → {match, reason})",
        "AllowedPattern": HTTPS_URL,
        "ConstraintDescription": "an https:// URL"},
    "RealNameServiceCredentials": {
        "Type": "String",
        "Description": "Where the verification service's key is kept, as JSON {\"api_key\"}: "
                       "ssm:/path/name (a SecureString parameter) or secretsmanager:name (a "
                       "secret)",
        "AllowedPattern": r"ssm:(/[A-Za-z0-9_.-]+)+|secretsmanager:[A-Za-z0-9/_+=.@-]{1,500}",
        "ConstraintDescription": "ssm:/path/name of a SecureString parameter, or "
                                 "secretsmanager:name of a secret"},
}
ENVIRONMENT = {"REAL_NAME_SERVICE_URL": {"Ref": "RealNameServiceUrl"},
               "REAL_NAME_SERVICE_CREDENTIALS": {"Ref": "RealNameServiceCredentials"}}
_NAME = {"Fn::Select": [1, {"Fn::Split": [":", {"Ref": "RealNameServiceCredentials"}]}]}
CONDITIONS = {"RealNameCredentialsInSsm": {"Fn::Equals": [
    {"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "RealNameServiceCredentials"}]}]}, "ssm"]}}
# The one parameter or secret named (with the AWS managed key aws/ssm or aws/secretsmanager no
# kms:Decrypt grant is needed).
CREDENTIALS = {
    "Sid": "RealNameServiceCredentials", "Effect": "Allow",
    "Action": {"Fn::If": ["RealNameCredentialsInSsm", ["ssm:GetParameter"],
                          ["secretsmanager:GetSecretValue"]]},
    "Resource": {"Fn::If": [
        "RealNameCredentialsInSsm",
        {"Fn::Sub": ["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                     "parameter${Name}", {"Name": _NAME}]},
        {"Fn::Sub": ["arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
                     "secret:${Name}-??????", {"Name": _NAME}]}]}}


def apply(template: dict) -> None:
    """Adds the parameters, the API function's environment and its grant to read the key."""
    resources = template["Resources"]
    template.setdefault("Parameters", {}).update(PARAMETERS)
    template.setdefault("Conditions", {}).update(CONDITIONS)
    api = resources[roles.API]["Properties"]
    api.setdefault("Environment", {}).setdefault("Variables", {}).update(ENVIRONMENT)
    role = resources[roles.role_name(roles.API)]["Properties"]
    role["Policies"][0]["PolicyDocument"]["Statement"].append(dict(CREDENTIALS))
