"""What a first deployment into a fresh account and region needs, and what keeps two stages apart
and the records safe:

- the deploy parameters (docs/deployment.md explains each);
- API Gateway's account-wide CloudWatch role, without which a stage with access logs cannot be
  created (created here unless the account has one: parameter ApiGatewayCloudWatchRole);
- the citizens' user pool able to text its confirmation codes (an SNS role for Cognito);
- one Kinesis Video stream per window camera of the catalog (or the hall's existing ones);
- the hall's own closure days handed to the working-day clock;
- queue event sources bound to the stack's own queues (names derive from the stack name, so two
  stages coexist in one account);
- every stateful resource retained when the stack is deleted or the resource replaced, and the
  tables with point-in-time recovery.
"""
from __future__ import annotations

import re

STATEFUL = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool",
            "AWS::Logs::LogGroup", "AWS::KinesisVideo::Stream", "AWS::KMS::Key")
# Records kept: the trail, supervision, scores and counters above all; every table is.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DATES = r"^(none|\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*)$"
CAMERA_RETENTION_HOURS = 2160      # 90 days of window footage, the halls' practice
# What the user pool texts with a sign-up or password-reset code ({####}); the local stack texts
# the same (local/cognito.py). A sign-up code lasts 24 hours, a reset code one hour.
CONFIRMATION_TEXT = "【亳州市政务服务】您的验证码为{####}，用于账号注册或找回密码，请勿告诉他人。"

PARAMETERS = {
    "OperatorsEmail": {
        "Type": "String", "AllowedPattern": EMAIL,
        "ConstraintDescription": "an e-mail address that receives the operators' alarms",
        "Description": "Receives every alarm (confirm the subscription e-mail once)."},
    "ApiGatewayCloudWatchRole": {
        "Type": "String", "AllowedValues": ["create", "exists"], "Default": "create",
        "ConstraintDescription": "create or exists",
        "Description": "API Gateway writes access logs through one role per account and "
                       "region: create it, or 'exists' when the account already has one."},
    "CameraStreams": {
        "Type": "String", "AllowedValues": ["create", "exists"], "Default": "create",
        "ConstraintDescription": "create or exists",
        "Description": "Create one Kinesis Video stream per window camera of the catalog, or "
                       "'exists' when the hall's cameras already stream to streams so named."},
    "HallClosures": {
        "Type": "String", "Default": "none", "AllowedPattern": DATES,
        "ConstraintDescription": "none, or ISO dates separated by commas, e.g. "
                                 "2026-12-31,2027-01-04",
        "Description": "Days the halls close besides weekends and statutory holidays "
                       "(the clock does not count them), or none."},
    "SiteOrigin": {
        "Type": "String", "Default": "none",
        "AllowedPattern": r"^(none|https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?)$",
        "ConstraintDescription": "none, or the website's https:// address",
        "Description": "The website's public address, printed in the QR code of every sealed "
                       "document (its verification page); none: the QR code carries the page's "
                       "path only."},
}
CONDITIONS = {
    "CreateApiGatewayRole": {"Fn::Equals": [{"Ref": "ApiGatewayCloudWatchRole"}, "create"]},
    "CreateCameraStreams": {"Fn::Equals": [{"Ref": "CameraStreams"}, "create"]},
}


def apply(template: dict, camera_streams: list[str]) -> None:
    resources = template["Resources"]
    template.setdefault("Parameters", {}).update(PARAMETERS)
    template.setdefault("Conditions", {}).update(CONDITIONS)
    _event_sources(resources)
    _api_gateway_account(resources)
    _citizen_texts(resources)
    _cameras(resources, camera_streams)
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            variables = resource["Properties"]["Environment"]["Variables"]
            variables["HALL_CLOSURES"] = {"Ref": "HallClosures"}
            variables["SITE_ORIGIN"] = {"Ref": "SiteOrigin"}
    for resource in resources.values():
        if resource["Type"] in STATEFUL:
            resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = "Retain"
        if resource["Type"] == "AWS::DynamoDB::Table":
            resource["Properties"]["PointInTimeRecoverySpecification"] = {
                "PointInTimeRecoveryEnabled": True}


def _event_sources(resources: dict) -> None:
    """chalice names a queue by its literal name; the template's queues are named after the
    stack, so each event source points at its queue resource instead."""
    by_name = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            name = resource["Properties"]["QueueName"]
            literal = name["Fn::Sub"].replace("${AWS::StackName}", "approval") \
                if isinstance(name, dict) else name
            by_name[literal] = logical_id
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]
                text = queue["Fn::Sub"] if isinstance(queue, dict) else queue
                literal = re.sub(r".*:", "", text)
                event["Properties"]["Queue"] = {"Fn::GetAtt": [by_name[literal], "Arn"]}


def _api_gateway_account(resources: dict) -> None:
    resources["ApiGatewayCloudWatchLogsRole"] = {
        "Type": "AWS::IAM::Role", "Condition": "CreateApiGatewayRole",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                                              "service-role/AmazonAPIGatewayPushToCloudWatchLogs"}]}}
    resources["ApiGatewayAccount"] = {
        "Type": "AWS::ApiGateway::Account", "Condition": "CreateApiGatewayRole",
        "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchLogsRole",
                                                            "Arn"]}}}
    # The stage's access log needs the account's role first.
    for name, resource in resources.items():
        if resource["Type"] in ("AWS::Serverless::Api",) or name == "RestAPI":
            resource["DependsOn"] = sorted(set(resource.get("DependsOn", [])) |
                                           {"ApiGatewayAccountReady"})
    # A wait condition that depends on the account only when it is created here.
    resources["ApiGatewayAccountReady"] = {
        "Type": "AWS::CloudFormation::WaitConditionHandle",
        "Metadata": {"ApiGatewayAccount": {"Fn::If": ["CreateApiGatewayRole",
                                                      {"Ref": "ApiGatewayAccount"},
                                                      "exists"]}}}


def _citizen_texts(resources: dict) -> None:
    pool = resources.get("CitizenUserPool")
    if pool is None:
        return
    resources["CitizenPoolTextsRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Cognito texts the citizens' confirmation codes through SNS",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": {"Fn::Sub": "${AWS::StackName}-citizens"}}}}]},
            "Policies": [{"PolicyName": "text-confirmation-codes", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{
                    "Sid": "TextMessages", "Effect": "Allow", "Action": "sns:Publish",
                    "Resource": "*"}]}}]}}
    props = pool["Properties"]
    props["SmsConfiguration"] = {
        "SnsCallerArn": {"Fn::GetAtt": ["CitizenPoolTextsRole", "Arn"]},
        "ExternalId": {"Fn::Sub": "${AWS::StackName}-citizens"},
        "SnsRegion": {"Ref": "AWS::Region"}}
    props["SmsVerificationMessage"] = CONFIRMATION_TEXT
    props["SmsAuthenticationMessage"] = "【政务服务】您的登录验证码为 {####}，请勿告诉他人。"


def _cameras(resources: dict, streams: list[str]) -> None:
    for stream in sorted(set(streams)):
        logical_id = "Camera" + "".join(part.title() for part in re.split(r"[^A-Za-z0-9]", stream))
        resources[logical_id] = {
            "Type": "AWS::KinesisVideo::Stream", "Condition": "CreateCameraStreams",
            "Properties": {"Name": stream, "DataRetentionInHours": CAMERA_RETENTION_HOURS,
                           "MediaType": "video/h264"}}
