"""What auditors and operators see in the console: the functions' and the gateway's log groups,
the saved Logs Insights queries, a dashboard and alarms."""
from __future__ import annotations

import json

# API Gateway's access log: one JSON line per request with the fields the auditors' queries
# read (chalicelib/audit_queries.py); the local gateway writes the same line when it refuses.
ACCESS_LOG_FORMAT = json.dumps({
    "timestamp": "$context.requestTime", "source": "gateway", "requestId": "$context.requestId",
    "status": "$context.status", "method": "$context.httpMethod",
    "route": "$context.resourcePath", "actor": "$context.identity.accessKey",
    "error": "$context.error.message"}).replace('"$context.status"', "$context.status")
LOG_RETENTION_DAYS = 3653      # ten years: the trail of government work is kept that long


def apply(resources: dict, functions: list[str]) -> None:
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
