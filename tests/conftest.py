"""Starts the whole local stack, exactly as `make run` does, on free ports, and gives the tests
its stack.json: once on the official calendar (`stack`) and once with a compressed clock
(`fast_stack`, one working day = WORKDAY seconds) for the workflow's timeouts."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKDAY = 8.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running_stack(tmp_path_factory, *options):
    state = tmp_path_factory.mktemp("stack")
    log = open(state / "stack.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "local.stack", "--api-port", str(free_port()),
         "--aws-port", str(free_port()), "--s3-port", str(free_port()), "--state-dir", str(state),
         *options],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    described = state / "stack.json"
    deadline = time.monotonic() + 90
    while not described.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not start:\n" +
                               (state / "stack.log").read_text())
        time.sleep(0.2)
    time.sleep(0.2)   # the file is complete once its writer closed it
    description = json.loads(described.read_text())
    description["state_dir"] = str(state)
    yield description
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory)


@pytest.fixture(scope="session")
def fast_stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory, "--workday-seconds", str(WORKDAY))


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
