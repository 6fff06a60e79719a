"""One role per function, least privilege, in the template as AWS reads it and in the local stack,
which enforces the same roles (local/iam.py): a permission missing from a role fails here with
AccessDenied, as it would in the cloud."""
import json
import os
from pathlib import Path

import boto3
import pytest
import requests

from infra import roles
from local.process import running_stack

ROOT = Path(__file__).resolve().parents[2]
APPEND_ONLY = {"TrailTable", "SupervisionTable"}
DEPLOYED_ONLY = {"RealNameServiceCredentials", "ReportMail"}


@pytest.fixture(scope="module")
def packaged(templates):
    return templates["global"]


@pytest.fixture(scope="module")
def translated(packaged):
    """The template as CloudFormation expands it: SAM's transform, with the code in S3 as
    `aws cloudformation package` leaves it."""
    from samtranslator.translator.transform import transform

    template = json.loads(json.dumps(packaged))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/deployment.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, {}, NoManagedPolicies())


def functions_of(template):
    return {name: r for name, r in template["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"}


def statements_of(role):
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_after_sam_translation_each_function_has_its_own_role(translated):
    resources = translated["Resources"]
    functions = functions_of(translated)
    assert set(functions) == set(roles.POLICIES)
    role_of = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert len(set(role_of.values())) == len(functions)
    assert "DefaultRole" not in resources
    for name, role in role_of.items():
        assert resources[role]["Type"] == "AWS::IAM::Role"
        assert resources[role]["Properties"]["AssumeRolePolicyDocument"] == roles.LAMBDA_TRUST
        # The role SAM would ignore a function's Policies for carries them itself.
        assert "Policies" not in functions[name]["Properties"]
        # A deployment's own grant comes on top: the verification service's key, named by a
        # deploy parameter (infra/realname.py).
        assert [s for s in statements_of(resources[role]) if s.get("Sid") not in DEPLOYED_ONLY] \
            == statements_of(roles.role(name))


def test_queue_handlers_may_poll_only_their_own_queue(translated):
    resources = translated["Resources"]
    mappings = [r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    # the uploads, the workflow, the default ratings' and the exports' shares, the counting
    assert len(mappings) == 5
    for mapping in mappings:
        function = mapping["FunctionName"]["Ref"]
        role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        polls = [s for s in statements_of(resources[role])
                 if "sqs:ReceiveMessage" in s["Action"]]
        assert [s["Resource"] for s in polls] == [mapping["EventSourceArn"]]


def test_no_role_may_rewrite_the_trail_or_supervision_records(packaged):
    for name, resource in packaged["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement in statements_of(resource):
            names = json.dumps(statement["Resource"])
            if any(table in names for table in APPEND_ONLY) or statement["Resource"] == "*":
                assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:*",
                            "dynamodb:BatchWriteItem"} & set(statement["Action"]), (name, statement)


def test_scheduled_jobs_cannot_pull_clips_or_start_workflows():
    for job in (roles.DEFAULT_RATINGS, roles.EXPORT_REPORTS, roles.RATE_BY_DEFAULT,
                roles.EXPORT_SHARE, roles.COUNT_AGAIN):
        statements = roles.role(job)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        actions = {a for s in statements for a in s["Action"]}
        assert not {a for a in actions if a.startswith(("kinesisvideo:", "states:"))}
        texts = [s for s in statements if any(a.startswith("sns:") for a in s["Action"])]
        # Only the report export texts: the hall's subscribers, a phone number (no topic).
        assert texts == ([roles.TEXT_MESSAGES] if job == roles.EXPORT_SHARE else []), job


def test_the_schedules_only_hand_out_shares_and_the_counting_only_counts():
    def statements(function):
        return [s for s in roles.role(function)["Properties"]["Policies"][0]["PolicyDocument"]
                ["Statement"] if s["Sid"] != "OwnLogGroup"]
    assert [(s["Action"], s["Resource"]) for s in statements(roles.DEFAULT_RATINGS)] == \
        [(["sqs:SendMessage"], {"Fn::GetAtt": ["DefaultRatingsQueue", "Arn"]})]
    assert [(s["Action"], s["Resource"]) for s in statements(roles.EXPORT_REPORTS)] == \
        [(["sqs:SendMessage"], {"Fn::GetAtt": ["ReportExportsQueue", "Arn"]})]
    counting = {a: s["Resource"] for s in statements(roles.COUNT_AGAIN) for a in s["Action"]}
    assert set(counting) == {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                             "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
                             "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert counting["dynamodb:UpdateItem"] == [{"Fn::GetAtt": ["ScoresTable", "Arn"]}]
    # Whoever counts may hand a failed count to the counting queue, and only there.
    for function in (roles.API, roles.WORKFLOW_MESSAGE, roles.RATE_BY_DEFAULT):
        sends = [s["Resource"] for s in statements(function) if "sqs:SendMessage" in s["Action"]]
        assert {"Fn::GetAtt": ["CountingQueue", "Arn"]} in sends, function


def operator(stack, service):
    aws = stack["aws"]
    return boto3.client(service, endpoint_url=aws["endpoint"], region_name=aws["region"],
                        aws_access_key_id=aws["access_key_id"],
                        aws_secret_access_key=aws["secret_access_key"])


def test_the_local_stack_runs_each_function_and_workflow_with_the_templates_role(stack):
    from local.provision import resolve

    iam = operator(stack, "iam")
    names = stack["resources"]
    arns = {logical_id: role for logical_id, role in stack["roles"].items()}
    for function in roles.POLICIES:
        role_name = stack["roles"][function].rsplit("/", 1)[-1]
        policies = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        assert policies == [f"{function}-least-privilege"]
        local = iam.get_role_policy(RoleName=role_name, PolicyName=policies[0])["PolicyDocument"]
        statements = local["Statement"]
        assert [s["Sid"] for s in statements] == [s["Sid"] for s in statements_of(
            roles.role(function))]
        # Every reference resolved to a resource of this stack.
        assert "Fn::" not in json.dumps(statements) and "${" not in json.dumps(statements)
    sfn = operator(stack, "stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        role = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["roleArn"]
        assert role in arns.values() and role.endswith("WorkflowRole")
    assert resolve({"Fn::Sub": "${TrailTable.Arn}/index/*"}, names, {
        "TrailTable": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}, "us-east-1") == \
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/*"


def test_a_role_without_a_statement_it_needs_is_refused_as_in_the_cloud(stack, tmp_path):
    """The guide reads published answers from the FAQ table: with the API's FaqsTable statement
    left out of its role, the same request fails, and the refusal is moto's AccessDenied."""
    assert requests.get(f"{stack['api_url']}/guide/items/SCJG-001", timeout=10).status_code == 200
    with running_stack(tmp_path, "--without-statement", "APIHandler:FaqsTable") as weaker:
        answer = requests.get(f"{weaker['api_url']}/guide/items/SCJG-001", timeout=10)
        assert answer.status_code == 500
        denied = [json.loads(line) for line in
                  (tmp_path / "logs" / "iam.jsonl").read_text().splitlines()]
        assert {"principal": "role/approval-APIHandlerRole", "action": "dynamodb:Query",
                "resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/"
                            f"{weaker['resources']['FaqsTable']}", "allowed": False} in denied
        # Never silent: the function's log line is one the operators' alarm counts.
        logged = (tmp_path / "logs" / "functions.jsonl").read_text(encoding="utf-8")
        assert any(refused_call(line) for line in logged.splitlines())


def test_the_api_sets_a_verified_number_only_with_its_grant_on_the_citizens_pool(tmp_path):
    """The real-name step sets the account's attributes with AdminUpdateUserAttributes, which
    the API's role may call on the citizens' pool alone: without that statement the demo
    citizen's real-name step fails at start, refused by moto's IAM on the pool's ARN."""
    with pytest.raises(RuntimeError) as failed:
        with running_stack(tmp_path, "--without-statement", "APIHandler:SetVerifiedIdentity"):
            pass
    assert "real-name step failed" in str(failed.value)
    decided = [json.loads(line) for line in
               (tmp_path / "logs" / "iam.jsonl").read_text().splitlines()]
    refused = [d for d in decided if d["action"] == "cognito-idp:AdminUpdateUserAttributes"
               and d["principal"] == "role/approval-APIHandlerRole"]
    assert refused and not any(d["allowed"] for d in refused)
    assert all(":userpool/" in d["resource"] for d in refused)


def test_the_real_name_grants_name_their_table_and_pool_only():
    statements = {s["Sid"]: s for s in statements_of(roles.role(roles.API))}
    assert statements["SetVerifiedIdentity"]["Action"] == ["cognito-idp:AdminUpdateUserAttributes"]
    assert statements["SetVerifiedIdentity"]["Resource"] == {"Fn::GetAtt": ["CitizenUserPool",
                                                                            "Arn"]}
    assert statements["IdentityBindingsTable"]["Action"] == ["dynamodb:GetItem",
                                                             "dynamodb:PutItem"]
    for function in roles.POLICIES:
        if function != roles.API:
            assert "cognito-idp" not in json.dumps(roles.role(function)), function
            assert "IdentityBindingsTable" not in json.dumps(roles.role(function)), function


def refused_call(line: str) -> bool:
    """The template's metric filter on the functions' log groups (`?A ?B`: any of the terms)."""
    from infra.monitoring import REFUSED_CALLS

    return any(term.lstrip("?") in line for term in REFUSED_CALLS.split())


def test_refused_calls_raise_an_alarm_in_the_template(packaged):
    from infra.monitoring import REFUSED_CALLS

    resources = packaged["Resources"]
    filters = [r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::Logs::MetricFilter"
               and r["Properties"]["FilterPattern"] == REFUSED_CALLS]
    assert {f["LogGroupName"]["Ref"] for f in filters} == {f"{name}LogGroup"
                                                           for name in roles.POLICIES}
    alarm = resources["RefusedAwsCallsAlarm"]["Properties"]
    assert alarm["MetricName"] == filters[0]["MetricTransformations"][0]["MetricName"]
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [{"Ref": "NotificationsTopic"}]


def test_the_api_callers_keys_and_unknown_keys_cannot_touch_the_data(stack):
    from tests.e2e.client import Staff

    aws = stack["aws"]
    system = stack["callers"]["hotline:BZ-12345"]
    staff = Staff(stack, "SCJG-002").credentials        # a staff member's temporary credentials
    for key, secret, token in ((system["access_key_id"], system["secret_access_key"], None),
                               (staff.access_key, staff.secret_key, staff.token),
                               ("AKIAEXAMPLEEXAMPLE00", "not-a-key", None)):
        dynamodb = boto3.client("dynamodb", endpoint_url=aws["endpoint"], region_name=aws["region"],
                                aws_access_key_id=key, aws_secret_access_key=secret,
                                aws_session_token=token)
        with pytest.raises(dynamodb.exceptions.ClientError) as refused:
            dynamodb.scan(TableName=stack["resources"]["CasesTable"])
        # moto answers IAM refusals in XML even for JSON services: botocore sees the status.
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
