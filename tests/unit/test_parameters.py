"""Deploy parameter values checked at `make package` (infra/parameters.py): each problem names
the parameter; optional parameters may stay empty only where their own constraint allows it."""
import json

import pytest

from infra.china import PARAMETERS as CHINA
from infra.parameters import InvalidParameters, check, load, problems_of, unconstrained

TEMPLATE = {"Parameters": {
    **CHINA,
    "ApiConcurrency": {"Type": "Number", "Default": 100, "MinValue": 10, "MaxValue": 3000,
                       "ConstraintDescription": "10 to 3000 executions"},
    "HallClosures": {"Type": "String", "Default": "",
                     "AllowedPattern": r"^(\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*)?$",
                     "ConstraintDescription": "ISO dates separated by commas"},
    "CameraStreams": {"Type": "String", "AllowedValues": ["create", "exists"],
                      "Default": "create"}}}
GOOD = {"OidcIssuer": "https://id.ah.gov.cn/oidc", "OidcClientId": "bozhou-approval",
        "OidcJwksUrl": "https://id.ah.gov.cn/oidc/jwks?v=2",
        "SmsGatewayCredentials": "secretsmanager:approval/sms-gateway",
        "SmsSignName": "亳州政务服务", "SmsTemplateCode": "SMS_154950909"}


def problems(values):
    with pytest.raises(InvalidParameters) as refused:
        check(TEMPLATE, values)
    return refused.value.problems


def test_good_values_become_cloudformations_parameter_list():
    listed = check(TEMPLATE, {**GOOD, "ApiConcurrency": 200, "HallClosures": ""})
    assert {"ParameterKey": "ApiConcurrency", "ParameterValue": "200"} in listed
    assert {"ParameterKey": "SmsSignName", "ParameterValue": "亳州政务服务"} in listed


@pytest.mark.parametrize("name, value, says", [
    ("OidcIssuer", "", "OidcIssuer: empty"),
    ("OidcIssuer", "http://id.ah.gov.cn/oidc", "OidcIssuer: 'http://id.ah.gov.cn/oidc' is "
                                               "malformed (an https:// URL"),
    ("OidcIssuer", "https://id.ah.gov.cn/oidc#x", "OidcIssuer: "),
    ("OidcClientId", "  ", "OidcClientId: empty"),
    ("OidcJwksUrl", "file:///etc/passwd", "OidcJwksUrl: 'file:///etc/passwd' is malformed"),
    ("SmsGatewayCredentials", "/approval/sms", "SmsGatewayCredentials: '/approval/sms' is "
                                               "malformed (ssm:/path/name"),
    ("SmsGatewayCredentials", "ssm:approval", "SmsGatewayCredentials: "),
    ("SmsSignName", "亳", "SmsSignName: '亳' is malformed"),
    ("SmsTemplateCode", "154950909", "SmsTemplateCode: '154950909' is malformed"),
    ("ApiConcurrency", "5", "ApiConcurrency: 5 is out of range (10 to 3000 executions)"),
    ("ApiConcurrency", "many", "ApiConcurrency: 'many' is not a number"),
    ("CameraStreams", "make", "CameraStreams: 'make' is not one of create, exists"),
    ("CameraStreams", "", "CameraStreams: empty"),
    ("HallClosures", "2026-12-31;2027-01-04", "HallClosures: "),
    ("OidcClientId", None, "OidcClientId: empty"),
    ("OidcClientId", ["a"], "OidcClientId: must be a string"),
])
def test_an_empty_or_malformed_value_is_named_with_what_it_should_be(name, value, says):
    assert any(p.startswith(says) for p in problems({**GOOD, name: value})), says


def test_a_required_parameter_left_out_and_an_unknown_name_are_named():
    found = problems({k: v for k, v in GOOD.items() if k != "OidcJwksUrl"} | {"OidcIsuer": "x"})
    assert any(p.startswith("OidcJwksUrl: required") for p in found)
    assert any(p.startswith("OidcIsuer: not a parameter of this template") for p in found)


def test_every_problem_is_reported_at_once():
    assert len(problems({"OidcIssuer": "", "SmsTemplateCode": "x"})) >= 5


def test_each_china_parameter_has_a_constraint_its_default_meets():
    assert unconstrained({"Parameters": CHINA}) == []
    assert all(spec.get("ConstraintDescription") for spec in CHINA.values())
    assert unconstrained({"Parameters": {"Loose": {"Type": "String"}}}) == [
        "Loose: a String parameter needs AllowedPattern or AllowedValues"]
    assert unconstrained({"Parameters": {"Bad": {"Type": "String", "AllowedPattern": "a+",
                                                 "Default": "b"}}})[0].startswith("Bad: 'b'")


def test_a_values_file_is_an_object_or_cloudformations_list(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"ParameterKey": "OidcIssuer",
                                   "ParameterValue": "https://id.ah.gov.cn/oidc"}]))
    assert load(listed) == {"OidcIssuer": "https://id.ah.gov.cn/oidc"}
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InvalidParameters, match="not a readable JSON file"):
        load(broken)
    with pytest.raises(InvalidParameters, match="expected a JSON object"):
        broken.write_text('"x"')
        load(broken)


def test_patterns_accept_what_the_gateways_and_providers_use():
    assert problems_of("SmsSignName", CHINA["SmsSignName"], "Bozhou12345") == []
    assert problems_of("SmsGatewayCredentials", CHINA["SmsGatewayCredentials"],
                       "ssm:/approval/prod/sms-gateway") == []
    assert problems_of("OidcIssuer", CHINA["OidcIssuer"], "https://id.ah.gov.cn:8443/") == []
    assert problems_of("OidcIdNumberClaim", CHINA["OidcIdNumberClaim"], "custom:idcard") == []
