"""`make package`: the one CloudFormation template of the cloud deployment.

`chalice package --merge-template infra/resources.json` generates the API, the functions and
their event sources and merges in our tables, buckets, queues, topic, user pool, IAM groups and
the case workflow. What a merge cannot express is then set here: every function (not only the
API's) gets the environment and the least-privilege policy declared on APIHandler, the
citizens' Cognito authorizer points at the template's own user pool, and each state machine's
ASL file (statemachines/) is carried inline with its definition substitutions."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION",
                                                                  "us-east-1")}
        subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--merge-template",
                        str(ROOT / "infra" / "resources.json"), work], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        template = json.loads((Path(work) / "sam.json").read_text())
        shutil.copy(Path(work) / "deployment.zip", out / "deployment.zip")
    resources = template["Resources"]
    shared = resources["APIHandler"]["Properties"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function" and name != "APIHandler":
            resource["Properties"]["Environment"] = copy.deepcopy(shared["Environment"])
            resource["Properties"]["Policies"] = copy.deepcopy(shared["Policies"])
    for resource in resources.values():
        # State machines are kept as ASL files; the template carries them inline.
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and \
                isinstance(props.get("DefinitionS3Location"), str):
            path = ROOT / props.pop("DefinitionS3Location")
            props["DefinitionString"] = path.read_text(encoding="utf-8")
    monitoring(resources, sorted(name for name, r in resources.items()
                                 if r["Type"] == "AWS::Serverless::Function"))
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    body["securityDefinitions"]["Citizens"]["x-amazon-apigateway-authorizer"]["providerARNs"] = \
        [{"Fn::GetAtt": ["CitizenUserPool", "Arn"]}]
    path = out / "template.json"
    path.write_text(json.dumps(template, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# API Gateway's access log: one JSON line per request with the fields the auditors' queries
# read (chalicelib/audit_queries.py); the local gateway writes the same line when it refuses.
ACCESS_LOG_FORMAT = json.dumps({
    "timestamp": "$context.requestTime", "source": "gateway", "requestId": "$context.requestId",
    "status": "$context.status", "method": "$context.httpMethod",
    "route": "$context.resourcePath", "actor": "$context.identity.accessKey",
    "error": "$context.error.message"}).replace('"$context.status"', "$context.status")
LOG_RETENTION_DAYS = 3653      # ten years: the trail of government work is kept that long


def monitoring(resources: dict, functions: list[str]) -> None:
    """What auditors and operators see in the console: the functions' and the gateway's log
    groups, the saved Logs Insights queries, a dashboard and alarms."""
    from chalicelib.audit_queries import FUNCTIONS, QUERIES, insights

    groups = {FUNCTIONS: [], "gateway": []}
    for name in functions:
        resources[f"{name}LogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{name}}}"},
            "RetentionInDays": LOG_RETENTION_DAYS}}
        groups[FUNCTIONS].append({"Ref": f"{name}LogGroup"})
    resources["ApiAccessLogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": "/approval/api-access", "RetentionInDays": LOG_RETENTION_DAYS}}
    groups["gateway"].append({"Ref": "ApiAccessLogGroup"})
    resources["RestAPI"]["Properties"]["AccessLogSetting"] = {
        "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
        "Format": ACCESS_LOG_FORMAT}
    for query in QUERIES:
        logical = "Query" + "".join(part.title() for part in query.name.split("-"))
        resources[logical] = {"Type": "AWS::Logs::QueryDefinition", "Properties": {
            "Name": f"approval/{query.name}", "QueryString": insights(query),
            "LogGroupNames": groups[query.log]}}
    resources["RefusedSignatures"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
        "LogGroupName": {"Ref": "ApiAccessLogGroup"},
        "FilterPattern": '{ ($.status = 403) && ($.error != "-") }',
        "MetricTransformations": [{"MetricNamespace": "Approval", "MetricName":
                                   "RefusedSignatures", "MetricValue": "1"}]}}
    alarms = {
        "FunctionErrorsAlarm": ("AWS/Lambda", "Errors", [{"Name": "FunctionName",
                                                          "Value": {"Ref": "APIHandler"}}], 1),
        "WorkflowDeadLettersAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                     [{"Name": "QueueName", "Value": {"Fn::GetAtt": [
                                         "WorkflowDeadLetters", "QueueName"]}}], 1),
        "CaseWorkflowFailedAlarm": ("AWS/States", "ExecutionsFailed",
                                    [{"Name": "StateMachineArn",
                                      "Value": {"Ref": "CaseWorkflow"}}], 1),
        "RefusedSignaturesAlarm": ("Approval", "RefusedSignatures", [], 20),
    }
    for logical, (namespace, metric, dimensions, threshold) in alarms.items():
        resources[logical] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
            "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
            "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "NotificationsTopic"}]}}
        if not dimensions:
            del resources[logical]["Properties"]["Dimensions"]
    red_cards = next(q for q in QUERIES if q.name == "red-cards-by-department")
    widgets = [
        {"type": "log", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "title": red_cards.title, "view": "bar", "region": "${AWS::Region}",
            "query": "SOURCE '/aws/lambda/${APIHandler}' | " + insights(red_cards)
            .replace("\n", " ")}},
        {"type": "metric", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "Functions, workflow and signatures", "region": "${AWS::Region}",
            "stat": "Sum", "period": 300, "metrics": [
                ["AWS/Lambda", "Errors", "FunctionName", "${APIHandler}"],
                ["AWS/States", "ExecutionsFailed", "StateMachineArn", "${CaseWorkflow}"],
                ["Approval", "RefusedSignatures"]]}}]
    resources["SupervisionDashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": "approval-supervision",
        "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets}, ensure_ascii=False)}}}


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "cloud")))
