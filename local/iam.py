"""IAM in the local stack, checked as AWS checks it.

moto authenticates every request from the first one (its request authentication switched on
before anything is provisioned): a request must be signed by a key moto issued, and the action
must be allowed by that principal's policies. moto determines the resource of a request only for
S3 and SQS; for the services this system calls it checks policies against "*", which no
least-privilege statement names, so here each request's resource is determined as IAM does:

- DynamoDB: the table, or the table's index for a query; a transaction is authorised item by
  item (PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem on each item's table), a
  batch table by table;
- Step Functions: the state machine or execution the request names (task tokens name none);
- SNS: the topic (text messages to a phone number name none);
- Cognito user pools: the pool an administrative operation names;
- Kinesis Video Streams: the stream.

moto's Step Functions executor signs its service integrations with a fixed dummy key; here it
signs with temporary credentials of the state machine's own role, as Step Functions does.

Who holds which key: the operator (the local stack itself, provisioning as a deployer would),
the API callers (IAM users, local/provision.py), and each function and state machine, which
get temporary credentials of their role as Lambda and Step Functions get them (an STS session
issued by the service, not by a caller's AssumeRole).

Every authorisation is appended to logs/iam.jsonl: which role did what on which resource, and
whether it was allowed (the benchmarks compare what a role is granted with what it uses).
"""
from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

ACCOUNT = "123456789012"
OPERATOR = "approval-operator"
_log_lock = threading.Lock()
_log_path: Path | None = None
_seen: set = set()


def enable(log_path: Path | None = None) -> None:
    """Switches authentication on for every request from now on (idempotent per process)."""
    global _log_path
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    _log_path = log_path
    _seen.clear()
    _preflights_pass()
    _patch_resources()
    _patch_recording()
    _patch_workflow_credentials()


def operator_key() -> tuple[str, str]:
    """The deployer's key, made directly in moto's IAM (nothing can sign the first request)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["aws"]
    user = iam.create_user(region_name="us-east-1", user_name=OPERATOR, path="/approval/")
    iam.put_user_policy(OPERATOR, "deploy-and-operate", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(user.name)
    return key.access_key_id, key.secret_access_key


def service_credentials(role_arn: str, session: str, region: str):
    """Temporary credentials of a role, as the Lambda or Step Functions service obtains them."""
    from botocore.credentials import Credentials
    from moto.sts.models import sts_backends

    assumed = sts_backends[ACCOUNT]["aws"].assume_role(
        region_name=region, role_session_name=session, role_arn=role_arn, policy=None,
        duration=43200, external_id=None)
    return Credentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


# -- the resource of each request ------------------------------------------------------------
def _arn(handler, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{handler.region}:{handler.current_account}:{resource}"


def _body(handler) -> dict:
    """The request's JSON parameters (moto has parsed them for some services already)."""
    for found in (handler.body, getattr(handler, "params", None)):
        if isinstance(found, dict) and found:
            return found
    try:
        found = json.loads(handler.body or "{}")
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _dynamodb(handler) -> list[tuple[str, str]]:
    """(action, resource) pairs IAM authorises for one DynamoDB request."""
    action, body = handler._get_action(), _body(handler)

    def table(name, index=None):
        return _arn(handler, "dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))

    if action in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in body.get("TransactItems") or []:
            for kind, operation in (item or {}).items():
                if isinstance(operation, dict) and kind in TRANSACT_ACTIONS:
                    pairs.append((TRANSACT_ACTIONS[kind], table(operation.get("TableName"))))
        return pairs or [(action, "*")]
    if action in ("BatchWriteItem", "BatchGetItem"):
        return [(action, table(name)) for name in (body.get("RequestItems") or {})] or \
            [(action, "*")]
    if body.get("TableName"):
        return [(action, table(body["TableName"], body.get("IndexName")))]
    if body.get("TableArn") or body.get("ResourceArn"):
        return [(action, body.get("TableArn") or body["ResourceArn"])]
    return [(action, "*")]


def _stepfunctions(handler) -> str:
    body = _body(handler)
    return body.get("stateMachineArn") or body.get("executionArn") or "*"


def _sns(handler) -> str:
    topic = handler._get_param("TopicArn") or handler._get_param("TargetArn")
    if topic:
        return topic
    name = handler._get_param("Name")
    if handler._get_action() == "CreateTopic" and name:
        return _arn(handler, "sns", name)
    return "*"


def _kinesisvideo(handler) -> str:
    body = _body(handler)
    if body.get("StreamARN"):
        return body["StreamARN"]
    name = body.get("StreamName")
    if not name:
        return "*"
    from moto.kinesisvideo.models import kinesisvideo_backends

    backend = kinesisvideo_backends[handler.current_account][handler.region]
    for stream in backend.streams.values():
        if stream.stream_name == name:
            return stream.arn
    return _arn(handler, "kinesisvideo", f"stream/{name}/0")


def _cognito(handler) -> str:
    """A user pool's administrative operations name the pool (the citizens' own operations
    are authenticated by their tokens and codes, not by IAM)."""
    pool = _body(handler).get("UserPoolId")
    return _arn(handler, "cognito-idp", f"userpool/{pool}") if pool else "*"


def _secretsmanager(handler) -> str:
    """A secret's operations name the secret by its ARN (given by name, it is looked up)."""
    secret = _body(handler).get("SecretId")
    if not secret or secret.startswith("arn:"):
        return secret or "*"
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[handler.current_account][handler.region]
    found = backend.secrets.get(secret) if hasattr(backend.secrets, "get") else None
    return found.arn if found is not None else _arn(handler, "secretsmanager", f"secret:{secret}")


def _kms(handler) -> str:
    """A key's operations name the key by its ARN (given by id, it is made into its ARN)."""
    key = _body(handler).get("KeyId")
    if not key:
        return "*"
    return key if key.startswith("arn:") else _arn(handler, "kms", f"key/{key}")


# IAM authorises a batch as its single action (there is no sqs:DeleteMessageBatch permission).
SQS_BATCHES = {"DeleteMessageBatch": "DeleteMessage", "SendMessageBatch": "SendMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _authorise(handler, pairs) -> None:
    """moto's own check (signature, then the principal's policies), once per (action, resource)."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequest
    from urllib.parse import urlparse

    if handler.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS \
            or handler.method == "OPTIONS":
        return
    path = handler.raw_path
    query = urlparse(handler.uri).query
    if query:
        path += "?" + query
    for action, resource in pairs:
        request = IAMRequest(account_id=handler.current_account, method=handler.method,
                             path=path, data=handler.data, body=handler.raw_body,
                             headers=handler.headers, action=action)
        request.check_signature()
        request.check_action_permitted(resource)


def _preflights_pass() -> None:
    """A browser's CORS preflight carries no credentials; AWS answers it without authenticating
    (the website signs in to Cognito and uploads to S3 straight from the browser)."""
    from moto.core.authorization import ActionAuthenticatorMixin

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action
    if getattr(authenticate, "preflights_pass", False):
        return

    @functools.wraps(authenticate)
    def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
        if self.method == "OPTIONS":
            return
        return authenticate(self, iam_request_cls, resource)

    _authenticate_and_authorize_action.preflights_pass = True
    ActionAuthenticatorMixin._authenticate_and_authorize_action = \
        _authenticate_and_authorize_action


def _patch_resources() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesisvideo.responses import KinesisVideoResponse
    from moto.kms.responses import KmsResponse
    from moto.kinesisvideoarchivedmedia.responses import KinesisVideoArchivedMediaResponse
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sns.responses import SNSResponse
    from moto.sqs.responses import SQSResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    if getattr(DynamoHandler, "_iam_as_aws", False):
        return

    def one(determine):
        def authorise(self, resource="*"):
            _authorise(self, [(self._get_action(), determine(self))])
        return authorise

    DynamoHandler._authenticate_and_authorize_normal_action = \
        lambda self, resource="*": _authorise(self, _dynamodb(self))
    StepFunctionResponse._authenticate_and_authorize_normal_action = one(_stepfunctions)
    SNSResponse._authenticate_and_authorize_normal_action = one(_sns)
    CognitoIdpResponse._authenticate_and_authorize_normal_action = one(_cognito)
    KinesisVideoResponse._authenticate_and_authorize_normal_action = one(_kinesisvideo)
    KinesisVideoArchivedMediaResponse._authenticate_and_authorize_normal_action = \
        one(_kinesisvideo)
    SecretsManagerResponse._authenticate_and_authorize_normal_action = one(_secretsmanager)
    KmsResponse._authenticate_and_authorize_normal_action = one(_kms)
    SQSResponse._authenticate_and_authorize_normal_action = lambda self, resource="*": \
        _authorise(self, [(SQS_BATCHES.get(self._get_action(), self._get_action()), resource)])
    DynamoHandler._iam_as_aws = True


# -- what each principal did -----------------------------------------------------------------
def _patch_recording() -> None:
    from moto.iam.access_control import IAMRequestBase

    if getattr(IAMRequestBase.check_action_permitted, "recorded", False):
        return
    check = IAMRequestBase.check_action_permitted

    @functools.wraps(check)
    def check_action_permitted(self, resource):
        try:
            check(self, resource)
        except Exception:
            _record(self, resource, False)
            raise
        _record(self, resource, True)

    check_action_permitted.recorded = True
    IAMRequestBase.check_action_permitted = check_action_permitted


def _record(request, resource: str, allowed: bool) -> None:
    principal = request._access_key.arn
    if ":assumed-role/" in principal:
        principal = "role/" + principal.split(":assumed-role/", 1)[1].split("/", 1)[0]
    elif ":user/" in principal or principal.endswith(OPERATOR):
        principal = "user/" + principal.rsplit("/", 1)[-1]
    line = (principal, request._action, resource, allowed)
    if _log_path is None or line in _seen:
        return
    with _log_lock:
        if line in _seen:
            return
        _seen.add(line)
        with open(_log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"principal": principal, "action": request._action,
                                  "resource": resource, "allowed": allowed}) + "\n")


# -- the workflows sign with their own role --------------------------------------------------
_workflow_credentials: dict[str, object] = {}


def _patch_workflow_credentials() -> None:
    import importlib
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    original = getattr(boto_client.boto_client_for, "dummy_key_client", boto_client.boto_client_for)

    def boto_client_for(region, service, state_credentials=None):
        import boto3
        from botocore.config import Config
        from moto.settings import moto_server_port
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            raise PermissionError("a state machine task without a role")
        credentials = _workflow_credentials.get(role_arn)
        if credentials is None:
            credentials = _workflow_credentials[role_arn] = service_credentials(
                role_arn, "states", region)
        return boto3.client(
            service_name=service, region_name=region,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
            endpoint_url=f"http://localhost:{moto_server_port()}",
            config=Config(parameter_validation=False,
                          retries={"max_attempts": 0, "total_max_attempts": 1},
                          connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                          read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS))

    boto_client_for.dummy_key_client = original
    _workflow_credentials.clear()
    prefix = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
    for name in ("sqs", "dynamodb", "sns", "aws_sdk", "sfn", "events"):
        importlib.import_module(prefix + "state_task_service_" + name)
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) in (original, ) or \
                getattr(getattr(module, "boto_client_for", None), "dummy_key_client", None):
            module.boto_client_for = boto_client_for
