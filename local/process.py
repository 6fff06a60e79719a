"""The local stack as a child process, exactly as `make run` starts it, on free ports: for the
end-to-end tests and the benchmarks."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_stack(state: Path, *options: str, timeout: float = 90):
    """Yields the stack's description (stack.json) with `state_dir` added."""
    state.mkdir(parents=True, exist_ok=True)
    described = state / "stack.json"
    begun = time.time() - 1                 # not an earlier run's, on a folder started again
    with open(state / "stack.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--api-port", str(free_port()),
             "--aws-port", str(free_port()), "--s3-port", str(free_port()),
             "--state-dir", str(state), *options],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        try:
            deadline = time.monotonic() + timeout
            while not _written_since(described, begun):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local stack did not start:\n"
                                       + (state / "stack.log").read_text())
                time.sleep(0.2)
            yield {**json.loads(described.read_text()), "state_dir": str(state)}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _written_since(path: Path, instant: float) -> bool:
    try:
        return path.stat().st_mtime >= instant
    except FileNotFoundError:
        return False
