"""One definition of the infrastructure: infra/resources.json is merged into the template
`chalice package` generates (checked by cfn-lint), provisions the local stack, and agrees with
the pynamodb models the code uses."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text())


@pytest.fixture(scope="module")
def packaged(built):
    return built["global"] / "template.json"


@pytest.fixture(scope="module")
def template(packaged):
    return json.loads(packaged.read_text())


def test_generated_template_passes_cfn_lint(packaged):
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(packaged)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_function_gets_the_tables_bucket_and_pool(template):
    functions = {name: r for name, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "MaterialUploaded"} <= set(functions)
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert {"CASES_TABLE", "TRAIL_TABLE", "MATERIALS_BUCKET"} <= set(variables), name


def test_citizen_routes_are_checked_against_the_template_user_pool(template):
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"]["Citizens"]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["CitizenUserPool", "Arn"]}]


def test_uploads_queue_in_the_template_is_the_one_the_app_listens_to(template):
    import app
    from local.provision import named

    queues = {named(r["Properties"]["QueueName"]): logical_id
              for logical_id, r in TEMPLATE["Resources"].items()
              if r.get("Type") == "AWS::SQS::Queue"}
    assert app.MATERIAL_UPLOADS_QUEUE in queues          # the local stack's (stack "approval")
    events = template["Resources"]["MaterialUploaded"]["Properties"]["Events"]
    # In the cloud the queue is named after the stack; the event source names the resource.
    assert [e["Properties"]["Queue"] for e in events.values()] == \
        [{"Fn::GetAtt": [queues[app.MATERIAL_UPLOADS_QUEUE], "Arn"]}]


def test_pynamodb_models_match_the_tables_of_the_template():
    from chalicelib.adapters.dynamodb import MODELS
    from chalicelib.adapters.dynamodb import VerificationModel

    models = MODELS + (VerificationModel,)

    def same(entries):
        return sorted(tuple(sorted(e.items())) for e in entries)

    assert {m.Meta.table_name for m in models} >= {"CasesTable", "TrailTable", "BranchesTable",
                                                   "SupervisionTable", "TasksTable",
                                                   "VerificationsTable"}
    for model in models:
        logical_id = model.Meta.table_name
        table = TEMPLATE["Resources"][logical_id]["Properties"]
        schema = model._get_schema()
        assert same(schema["key_schema"]) == same(table["KeySchema"]), logical_id
        assert same(schema["attribute_definitions"]) == same(table["AttributeDefinitions"]), \
            logical_id
        indexes = {i["IndexName"]: same(i["KeySchema"])
                   for i in table.get("GlobalSecondaryIndexes", [])}
        assert {i["index_name"]: same(i["key_schema"])
                for i in schema["global_secondary_indexes"]} == indexes, logical_id


def test_trail_table_is_append_only_for_the_functions():
    from infra import roles

    for function in roles.POLICIES:
        statements = roles.role(function)["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"]
        for trail in [s for s in statements if "TrailTable" in json.dumps(s["Resource"])]:
            assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem"} & set(trail["Action"])


def test_the_auditors_questions_are_saved_queries_over_the_logs_that_answer_them(template):
    from chalicelib.audit_queries import QUERIES, insights
    from infra.build import ACCESS_LOG_FORMAT

    resources = template["Resources"]
    # Named after the stack, so two stages coexist in one account.
    saved = {r["Properties"]["Name"]["Fn::Sub"]: r["Properties"] for r in resources.values()
             if r["Type"] == "AWS::Logs::QueryDefinition"}
    assert set(saved) == {f"${{AWS::StackName}}/{q.name}" for q in QUERIES}
    access_fields = set(json.loads(ACCESS_LOG_FORMAT.replace("$context.status", "0")))
    for query in QUERIES:
        definition = saved[f"${{AWS::StackName}}/{query.name}"]
        assert definition["QueryString"] == insights(query)
        groups = [resources[g["Ref"]]["Properties"]["LogGroupName"]
                  for g in definition["LogGroupNames"]]
        if query.log == "gateway":
            assert groups == [{"Fn::Sub": "/${AWS::StackName}/api-access"}]
            assert query.used_fields <= access_fields, query.name
        else:
            assert {"Fn::Sub": "/aws/lambda/${AWS::StackName}-APIHandler"} in groups
    assert resources["RestAPI"]["Properties"]["AccessLogSetting"]["Format"] == ACCESS_LOG_FORMAT
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 4 and all(a["Properties"]["AlarmActions"] for a in alarms)
    assert any(r["Type"] == "AWS::CloudWatch::Dashboard" for r in resources.values())
