"""The case workflow in Step Functions, e-certificates in S3 (text messages: notifier.py)."""
from __future__ import annotations

import json

from . import aws
from .notifier import SnsNotifier  # noqa: F401 - text messages moved to adapters/notifier.py

STALE_TOKEN_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


class StepFunctionsEngine:
    def __init__(self, state_machine_arn: str):
        self.arn = state_machine_arn

    def start(self, name: str, payload: dict) -> None:
        """Executions are named after the case: a retried start cannot fork it."""
        from botocore.exceptions import ClientError

        try:
            aws.client("stepfunctions").start_execution(
                stateMachineArn=self.arn, name=name, input=json.dumps(payload))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def deliver(self, token: str, output: dict) -> bool:
        """A decision ends the waiting task; a new plan fails it with `Resumed`, and the workflow
        reads the plan from the branch's item (one state per decided branch, not three).
        False when the task behind the token has ended (it timed out a moment ago)."""
        from botocore.exceptions import ClientError

        client = aws.client("stepfunctions")
        try:
            if output.get("outcome") == "resumed":
                client.send_task_failure(taskToken=token, error="Resumed",
                                         cause="a new plan is in the branch's item")
            else:
                client.send_task_success(taskToken=token, output=json.dumps(output))
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] in STALE_TOKEN_ERRORS:
                return False
            raise


class S3Certificates:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put(self, code: str, document: dict) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=f"certificates/{code}.json",
                                    Body=json.dumps(document, ensure_ascii=False).encode(),
                                    ContentType="application/json")

    def get(self, code: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            body = aws.client("s3").get_object(Bucket=self.bucket,
                                               Key=f"certificates/{code}.json")["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)
