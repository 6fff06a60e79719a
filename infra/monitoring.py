"""What auditors and operators see in the console: the functions' and the gateway's log groups,
the saved Logs Insights queries, a dashboard and alarms."""
from __future__ import annotations

import json

from infra.roles import log_group

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
            "LogGroupName": {"Fn::Sub": log_group(name)},
            "RetentionInDays": LOG_RETENTION_DAYS}}
        groups[FUNCTIONS].append({"Ref": f"{name}LogGroup"})
    resources["ApiAccessLogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::Sub": "/${AWS::StackName}/api-access"},
        "RetentionInDays": LOG_RETENTION_DAYS}}
    groups["gateway"].append({"Ref": "ApiAccessLogGroup"})
    resources["RestAPI"]["Properties"]["AccessLogSetting"] = {
        "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
        "Format": ACCESS_LOG_FORMAT}
    for query in QUERIES:
        logical = "Query" + "".join(part.title() for part in query.name.split("-"))
        resources[logical] = {"Type": "AWS::Logs::QueryDefinition", "Properties": {
            "Name": {"Fn::Sub": f"${{AWS::StackName}}/{query.name}"},
            "QueryString": insights(query),
            "LogGroupNames": groups[query.log]}}
    resources["RefusedSignatures"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
        "LogGroupName": {"Ref": "ApiAccessLogGroup"},
        "FilterPattern": '{ ($.status = 403) && ($.error != "-") }',
        "MetricTransformations": [{"MetricNamespace": NAMESPACE, "MetricName":
                                   "RefusedSignatures", "MetricValue": "1"}]}}
    for name in functions:
        # A call AWS refused (a role missing a permission, a key revoked) is an error the
        # operators hear of, even where the API answered it as a 500 and Lambda saw success.
        resources[f"{name}RefusedCalls"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": {"Ref": f"{name}LogGroup"},
            "FilterPattern": REFUSED_CALLS,
            "MetricTransformations": [{"MetricNamespace": NAMESPACE,
                                       "MetricName": "RefusedAwsCalls", "MetricValue": "1"}]}}
        # A text that could not be sent is logged, not raised (the recorded work stands): the
        # operators still hear of it.
        resources[f"{name}FailedTexts"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": {"Ref": f"{name}LogGroup"},
            "FilterPattern": FAILED_TEXTS,
            "MetricTransformations": [{"MetricNamespace": NAMESPACE,
                                       "MetricName": "FailedTexts", "MetricValue": "1"}]}}
        # Counting that failed goes to the counting queue; only when that queue refuses too is
        # a count dropped (logged): the scores would drift, the operators hear of it at once.
        resources[f"{name}DroppedCounts"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": {"Ref": f"{name}LogGroup"},
            "FilterPattern": DROPPED_COUNTS,
            "MetricTransformations": [{"MetricNamespace": NAMESPACE,
                                       "MetricName": "DroppedCounts", "MetricValue": "1"}]}}
    if HAND_OVERS in functions:
        # A hand-over to the workflow still pending ten minutes after it was committed: the
        # sweeper keeps failing to carry it out (a case not started, an answer not given).
        resources["LateHandOvers"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": {"Ref": f"{HAND_OVERS}LogGroup"},
            "FilterPattern": LATE_HAND_OVERS,
            "MetricTransformations": [{"MetricNamespace": NAMESPACE,
                                       "MetricName": "LateHandOvers", "MetricValue": "1"}]}}
    _operators_topic(resources)
    for logical, (namespace, metric, dimensions, threshold) in alarms(resources,
                                                                       functions).items():
        resources[logical] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"{metric} of {logical.removesuffix('Alarm')}",
            "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
            "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
            "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "NotificationsTopic"}]}}
        if not dimensions:
            del resources[logical]["Properties"]["Dimensions"]
    resources["SupervisionDashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": {"Fn::Sub": "${AWS::StackName}-supervision"},
        "DashboardBody": {"Fn::Sub": json.dumps({"widgets": _widgets(functions)},
                                                ensure_ascii=False)}}}


NAMESPACE = {"Fn::Sub": "Approval/${AWS::StackName}"}
# Any of these terms in a function's log line (CloudWatch's `?term` filter syntax): AWS refused
# a call.
REFUSED_CALLS = "?AccessDenied ?AccessDeniedException ?UnauthorizedOperation"
FAILED_TEXTS = '{ $.message = "notification failed" }'   # chalicelib/adapters/notifier.py
DROPPED_COUNTS = '{ $.message = "counting dropped" }'    # chalicelib/service/performance.py
HAND_OVERS = "HandOverCases"         # the outbox's sweeper (app.py's hand_over_cases)
LATE_HAND_OVERS = ('{ ($.message = "hand-overs swept") && '
                   '($.oldest_pending_seconds >= 600) }')
# Where each kind of event is written: a card raised by a timeout is logged by the function that
# reads the workflow's messages, a card raised by a decision by the API.
CARDS_LOGGED_BY = ("APIHandler", "WorkflowMessage")


def alarms(resources: dict, functions: list[str]) -> dict:
    """Every function's errors and throttles, both workflows' failures and timeouts, every
    dead-letter queue's depth, the API's 5xx, refused signatures and refused AWS calls, and a
    hand-over to the workflow the sweeper has not carried out in ten minutes."""
    found = {}
    for name in functions:
        dimension = [{"Name": "FunctionName", "Value": {"Ref": name}}]
        found[f"{name}ErrorsAlarm"] = ("AWS/Lambda", "Errors", dimension, 1)
        found[f"{name}ThrottlesAlarm"] = ("AWS/Lambda", "Throttles", dimension, 1)
    for name, resource in resources.items():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            dimension = [{"Name": "StateMachineArn", "Value": {"Ref": name}}]
            for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
                found[f"{name}{metric}Alarm"] = ("AWS/States", metric, dimension, 1)
    dead_letters = {r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    for r in resources.values()
                    if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    for name in sorted(dead_letters):
        found[f"{name}DepthAlarm"] = ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                      [{"Name": "QueueName",
                                        "Value": {"Fn::GetAtt": [name, "QueueName"]}}], 1)
    # The API is named after the stack, so two stages' 5xx are told apart.
    resources["RestAPI"]["Properties"]["Name"] = {"Fn::Sub": "${AWS::StackName}"}
    api = [{"Name": "ApiName", "Value": {"Fn::Sub": "${AWS::StackName}"}},
           {"Name": "Stage", "Value": {"Ref": "RestAPI.Stage"}}]
    found["Api5xxAlarm"] = ("AWS/ApiGateway", "5XXError", api, 1)
    found["RefusedSignaturesAlarm"] = (NAMESPACE, "RefusedSignatures", [], 20)
    found["RefusedAwsCallsAlarm"] = (NAMESPACE, "RefusedAwsCalls", [], 1)
    found["FailedTextsAlarm"] = (NAMESPACE, "FailedTexts", [], 5)
    found["DroppedCountsAlarm"] = (NAMESPACE, "DroppedCounts", [], 1)
    if HAND_OVERS in functions:
        found["LateHandOversAlarm"] = (NAMESPACE, "LateHandOvers", [], 1)
    return found


def _operators_topic(resources: dict) -> None:
    """Alarms reach the operators on an encrypted topic whose key CloudWatch may use (it cannot
    use the AWS-managed SNS key), with the operators' e-mail subscribed."""
    resources["OperatorsKey"] = {"Type": "AWS::KMS::Key", "Properties": {
        "Description": "Encrypts the operators' alarm topic; CloudWatch may use it",
        "EnableKeyRotation": True,
        "KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchPublishesAlarms", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}}
    topic = resources["NotificationsTopic"]["Properties"]
    topic["KmsMasterKeyId"] = {"Ref": "OperatorsKey"}
    resources["OperatorsSubscription"] = {"Type": "AWS::SNS::Subscription", "Properties": {
        "TopicArn": {"Ref": "NotificationsTopic"}, "Protocol": "email",
        "Endpoint": {"Ref": "OperatorsEmail"}}}


def _widgets(functions: list[str]) -> list[dict]:
    from chalicelib.audit_queries import QUERIES, insights

    red_cards = next(q for q in QUERIES if q.name == "red-cards-by-department")
    sources = " | ".join(f"SOURCE '{log_group(name)}'" for name in CARDS_LOGGED_BY)
    metrics = [["AWS/Lambda", "Errors", "FunctionName", f"${{{name}}}"] for name in functions]
    metrics += [["AWS/States", "ExecutionsFailed", "StateMachineArn", "${CaseWorkflow}"],
                ["AWS/States", "ExecutionsFailed", "StateMachineArn", "${TaskWorkflow}"],
                ["Approval/${AWS::StackName}", "RefusedSignatures"],
                ["Approval/${AWS::StackName}", "RefusedAwsCalls"]]
    return [
        {"type": "log", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "title": red_cards.title, "view": "bar", "region": "${AWS::Region}",
            "query": sources + " | " + insights(red_cards).replace("\n", " ")}},
        {"type": "metric", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "Functions, workflows, signatures and refused calls",
            "region": "${AWS::Region}", "stat": "Sum", "period": 300, "metrics": metrics}}]
