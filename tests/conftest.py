"""Starts the whole local stack, exactly as `make run` does, on free ports, and gives the tests
its stack.json: once on the official calendar (`stack`) and once with a compressed clock
(`fast_stack`, one working day = WORKDAY seconds) for the workflow's timeouts."""
import pytest

from local.process import running_stack

WORKDAY = 8.0
# How close to its computed instant a light must be recorded in these tests: it comes from the
# workflow's own timeout, not from a later sweep. The goal itself (every event within 1 s) is
# measured by bench/workflow.py on a quiet machine; tests share the cores with other work (two
# test processes, each with its own local stacks, on two cores: 4.7 s has been seen there).
AT_ITS_INSTANT = 5.0


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack")) as described:
        yield described


@pytest.fixture(scope="session")
def fast_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("fast"), "--workday-seconds",
                       str(WORKDAY)) as described:
        yield described


@pytest.fixture(scope="session")
def guide(stack):
    """Reads item guides over the public API, as the portal does."""
    import requests

    cache = {}

    def read(code):
        if code not in cache:
            answer = requests.get(f"{stack['api_url']}/guide/items/{code}", timeout=10)
            assert answer.status_code == 200, answer.text
            cache[code] = answer.json()
        return cache[code]
    return read
