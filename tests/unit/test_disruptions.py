"""The local stack's disruptions on demand (local/disruptions.py): a refusing service answers a
function's calls with the error the service itself sends, through botocore's own parsing and
retries; calls outside a function pass; a stopped component is started again, once."""
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import disruptions
from local.runtime import acting_as


@pytest.fixture(autouse=True)
def clean():
    disruptions.install()
    disruptions._until.clear()
    disruptions._refused.clear()
    yield
    disruptions._until.clear()
    disruptions._refused.clear()
    disruptions.stop()


def client(service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                        aws_access_key_id="k", aws_secret_access_key="s",
                        config=Config(retries={"mode": "standard", "max_attempts": 3}))


def test_a_throttled_table_answers_a_function_as_dynamodb_does_after_the_retries():
    dynamodb = client("dynamodb")              # made first: a loaded machine is slow at it
    disruptions.refuse("dynamodb", 60)
    with acting_as("APIHandler"), pytest.raises(ClientError) as refused:
        dynamodb.get_item(TableName="cases", Key={"case_id": {"S": "x"}})
    error = refused.value.response
    assert error["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    attempts = error["ResponseMetadata"]["RetryAttempts"]
    assert attempts >= 1                                            # retried as a throttle
    assert disruptions.state()["refused_calls"] == {"dynamodb": attempts + 1}


def test_step_functions_errors_are_its_own_and_other_services_are_untouched():
    sfn = client("stepfunctions")
    disruptions.refuse("stepfunctions", 60)
    with acting_as("APIHandler"), pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:"
                                                "123456789012:stateMachine:m", name="c")
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert disruptions.state()["refusing"].keys() == {"states"}


def test_calls_outside_a_function_and_after_the_seconds_are_not_refused():
    disruptions.refuse("dynamodb", 0.2)
    assert disruptions._refusal("dynamodb") is None            # no function: the executor
    with acting_as("APIHandler"):
        assert disruptions._refusal("dynamodb") is not None
        time.sleep(0.25)
        assert disruptions._refusal("dynamodb") is None
    assert disruptions.state()["refused_calls"] == {"dynamodb": 1}


@pytest.mark.parametrize("body, field", [
    ({"service": "s3", "seconds": 3}, "service"),
    ({"service": "dynamodb", "error": "unavailable", "seconds": 3}, "service"),
    ({"service": "dynamodb", "seconds": 0}, "seconds"),
    ({"service": "dynamodb", "seconds": 121}, "seconds"),
    ({"component": "executor", "seconds": 3}, "component"),
])
def test_what_cannot_be_disrupted_is_refused_naming_it(body, field):
    with pytest.raises(ValueError, match=field):
        if "component" in body:
            disruptions.stop_for(body["component"], body["seconds"])
        else:
            disruptions.refuse(body["service"], body["seconds"], body.get("error"))


class Pollers:
    made = []

    def __init__(self):
        self.started = self.stopped = False
        Pollers.made.append(self)

    def start(self):
        self.started = True

    def stop(self):
        self.stopped = True


def test_a_stopped_component_is_started_again_once_after_its_seconds():
    Pollers.made.clear()
    first = Pollers()
    first.start()
    disruptions._components["dispatcher"] = disruptions._Component(first, Pollers)
    disruptions.stop_for("dispatcher", 0.3)
    assert first.stopped and len(Pollers.made) == 1
    assert disruptions.state()["stopped"]["dispatcher"] > 0
    with pytest.raises(ValueError, match="stopped already"):
        disruptions.stop_for("dispatcher", 1)
    deadline = time.monotonic() + 5
    while len(Pollers.made) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    second = Pollers.made[1]
    assert second.started and not second.stopped
    assert disruptions.state()["restarts"] == {"dispatcher": 1}
    assert disruptions.state()["stopped"] == {}
    disruptions.stop()                          # the stack's shutdown stops the new one
    assert second.stopped
