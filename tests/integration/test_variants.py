"""The two templates `make package` builds from the same sources: global (Cognito, SNS) and
China (AWS's China regions: an OpenID Connect Lambda authorizer, a domestic SMS gateway). Each
passes cfn-lint for its regions, names no partition or domain of its own, and its deploy
parameters are checked when it is built."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")

CHINA_VALUES = {
    "OidcIssuer": "https://id.ah.gov.cn/oidc", "OidcClientId": "bozhou-approval",
    "OidcJwksUrl": "https://id.ah.gov.cn/oidc/jwks", "OidcIdNumberClaim": "idcard",
    "SmsGatewayCredentials": "ssm:/approval/sms-gateway", "SmsSignName": "亳州政务服务",
    "SmsTemplateCode": "SMS_154950909", "OperatorsEmail": "ops@bozhou.gov.cn",
    "StaffOidcIssuer": "https://oa.bozhou.gov.cn/oidc", "StaffOidcClientId": "approval-staff",
    "StaffOidcThumbprint": "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}


def build(out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "infra.build", str(out), *options], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Both variants, built side by side; the China one with a deployment's values."""
    folder = tmp_path_factory.mktemp("variants")
    values = folder / "china.json"
    # Values the template declares only if another module adds them are left out.
    values.write_text(json.dumps(CHINA_VALUES, ensure_ascii=False), encoding="utf-8")
    runs = {"global": build(folder / "cloud"),
            "china": build(folder / "cloud-cn", "--variant", "china", "--parameters",
                           str(values))}
    for variant, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, f"{variant}: {err[-3000:]}"
    return {"global": folder / "cloud", "china": folder / "cloud-cn"}


@pytest.fixture(scope="module")
def templates(built):
    return {variant: json.loads((out / "template.json").read_text(encoding="utf-8"))
            for variant, out in built.items()}


@pytest.mark.parametrize("variant, region", [("global", "us-east-1"), ("china", "cn-north-1")])
def test_each_variant_passes_cfn_lint_in_its_regions(built, variant, region):
    lint = subprocess.run([CFN_LINT, "--regions", region, "--", str(built[variant] /
                                                                    "template.json")],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_china_variant_lacks_in_ningxia_only_the_staff_identity_pool(built):
    """Staff sign in through an identity pool, which AWS offers in Beijing, not in Ningxia:
    cfn-lint finds nothing else missing there (infra/staff.py)."""
    lint = subprocess.run([CFN_LINT, "--regions", "cn-northwest-1", "--format", "parseable",
                           "--", str(built["china"] / "template.json")],
                          capture_output=True, text=True)
    found = [line for line in lint.stdout.splitlines() if line.strip()]
    assert found and all(":E3006:" in line and "AWS::Cognito::IdentityPool" in line
                         for line in found), lint.stdout


def strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


@pytest.mark.parametrize("variant", ["global", "china"])
def test_no_variant_names_the_aws_partition_or_its_domain(templates, variant):
    found = list(strings(templates[variant]))
    assert not [(p, s) for p, s in found if "arn:aws:" in s]
    # amazonaws.com only as a service principal, which is the same in every partition
    # (lambda.amazonaws.com.cn is refused in China)
    others = [(p, s) for p, s in found if "amazonaws.com" in s
              and not (p.endswith((".Principal.Service", ".Principal.Federated",
                                   ".Properties.Principal"))
                       and s.endswith(".amazonaws.com") and s.count(".") == 2)]
    assert not others
    assert [s for p, s in found if "${AWS::Partition}" in s]
    assert [s for p, s in found if "${AWS::URLSuffix}" in s]


def test_the_state_machines_name_the_partition_of_their_integrations(templates):
    for variant in ("global", "china"):
        for resource in templates[variant]["Resources"].values():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                props = resource["Properties"]
                assert "arn:${Partition}:states:::" in props["DefinitionString"]
                assert props["DefinitionSubstitutions"]["Partition"] == {"Ref": "AWS::Partition"}


def citizen_security(template):
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    names = {next(iter(s)) for methods in body["paths"].values()
             for method, spec in methods.items() if method in ("get", "post")
             and path_is_citizens(spec) for s in spec.get("security", [])}
    return names, body["securityDefinitions"]


def path_is_citizens(spec):
    return any(next(iter(s)) not in ("sigv4",) for s in spec.get("security", []))


def test_the_global_variant_keeps_cognito(templates):
    template = templates["global"]
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::Cognito::UserPool" in types
    names, definitions = citizen_security(template)
    assert names == {"Citizens"}
    assert definitions["Citizens"]["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools", "providerARNs": [{"Fn::GetAtt": ["CitizenUserPool",
                                                                       "Arn"]}]}
    assert "CitizenSignIn" not in template["Resources"]
    assert not {"OidcIssuer", "SmsGatewayCredentials"} & set(template.get("Parameters", {}))


def test_the_china_variant_signs_citizens_in_with_the_oidc_lambda_authorizer(templates):
    template = templates["china"]
    resources = template["Resources"]
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::Cognito::UserPool")]
    assert "CitizenUserPool" not in json.dumps(template)
    names, definitions = citizen_security(template)
    assert names == {"citizen_sign_in"}
    authorizer = definitions["citizen_sign_in"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "token" and "${CitizenSignIn.Arn}" in \
        authorizer["authorizerUri"]["Fn::Sub"]
    function = resources["CitizenSignIn"]["Properties"]
    assert function["Handler"] == "app.citizen_sign_in"
    assert function["Environment"]["Variables"]["OIDC_ISSUER"] == {"Ref": "OidcIssuer"}
    assert "CASES_TABLE" not in function["Environment"]["Variables"]
    assert resources["CitizenSignInInvokePermission"]["Properties"]["Principal"] == \
        "apigateway.amazonaws.com"
    # it calls no AWS API: its role writes its own log group, nothing else
    role = resources[function["Role"]["Fn::GetAtt"][0]]["Properties"]
    [statement] = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "CitizenSignIn:*" in statement["Resource"]["Fn::Sub"]
    assert resources["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert resource["Properties"]["Environment"]["Variables"]["CITIZEN_SIGN_IN"] == \
                "oidc", name


def test_the_china_variant_texts_through_the_sms_gateway_and_reads_only_its_key(templates):
    resources = templates["china"]["Resources"]
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["SMS_GATEWAY"] == \
        "http"
    statements = [s for r in resources.values() if r["Type"] == "AWS::IAM::Role"
                  for p in r["Properties"].get("Policies", [])
                  for s in p["PolicyDocument"]["Statement"]]
    assert not [s for s in statements if "sns:Publish" in json.dumps(s.get("Action"))]
    reads = [s for s in statements if s.get("Sid") == "SmsGatewayCredentials"]
    assert reads and all(s["Action"]["Fn::If"][1:] == [["ssm:GetParameter"],
                                                        ["secretsmanager:GetSecretValue"]]
                         for s in reads)


def test_every_parameter_says_what_it_accepts(templates):
    from infra.parameters import unconstrained

    for variant in ("global", "china"):
        assert unconstrained(templates[variant]) == []


def test_given_values_are_written_as_cloudformation_parameters(built, templates):
    written = json.loads((built["china"] / "parameters.json").read_text(encoding="utf-8"))
    assert {p["ParameterKey"]: p["ParameterValue"] for p in written} == CHINA_VALUES
    assert not (built["global"] / "parameters.json").exists()


def test_an_empty_or_malformed_value_fails_the_build_naming_the_parameter(tmp_path):
    values = tmp_path / "china.json"
    values.write_text(json.dumps({**CHINA_VALUES, "OidcClientId": "",
                                  "OidcIssuer": "http://id.ah.gov.cn/oidc",
                                  "SmsGatewayCredentials": "/approval/sms-gateway",
                                  "SmsTemplateCode": " "}), encoding="utf-8")
    run = build(tmp_path / "cloud-cn", "--variant", "china", "--parameters", str(values))
    out, err = run.communicate(timeout=600)
    assert run.returncode != 0
    assert "OidcClientId: empty" in err and "SmsTemplateCode: empty" in err
    assert "OidcIssuer: 'http://id.ah.gov.cn/oidc' is malformed" in err
    assert "SmsGatewayCredentials: '/approval/sms-gateway' is malformed" in err
    assert not (tmp_path / "cloud-cn" / "template.json").exists()
