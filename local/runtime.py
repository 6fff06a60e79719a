"""Each function runs with its own role's credentials, as Lambda runs it.

In the cloud each function is its own process, handed its role's temporary credentials in its
environment. Locally the API, the queue handlers and the schedules share one process, so the
credentials live with the thread that runs a function: the gateway and the dispatcher enter
`acting_as(function)` around each invocation, and every AWS client the code builds (boto3's,
pynamodb's) signs with the credentials of the function running in that thread. Outside any
function there are none: the call fails as a function without a role would, instead of quietly
using someone else's."""
from __future__ import annotations

import contextlib
import threading
from typing import Callable

from botocore.credentials import Credentials, ReadOnlyCredentials

_current = threading.local()
_issued: dict[str, Credentials] = {}          # function → its role's temporary credentials
_issue: Callable[[str], Credentials] | None = None


class NoFunctionRunning(RuntimeError):
    pass


class FunctionCredentials(Credentials):
    """The credentials of whichever function runs in the calling thread, looked up each time a
    request is signed (botocore asks for frozen credentials per request)."""

    def __init__(self):  # noqa: D107 - no fixed key of its own
        self.method = "local-function-role"

    def _of_thread(self) -> Credentials:
        function = getattr(_current, "function", None)
        if function is None:
            raise NoFunctionRunning("an AWS call outside any function: it has no role locally")
        found = _issued.get(function)
        if found is None:
            found = _issued[function] = _issue(function)
        return found

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._of_thread().get_frozen_credentials()

    @property
    def access_key(self):
        return self._of_thread().access_key

    @property
    def secret_key(self):
        return self._of_thread().secret_key

    @property
    def token(self):
        return self._of_thread().token


def install(issue: Callable[[str], Credentials]) -> None:
    """From now on, every botocore session in this process resolves to the running function's
    credentials; `issue(function)` hands out a function's role credentials (once)."""
    global _issue
    import botocore.session

    _issue = issue
    _issued.clear()
    if not getattr(botocore.session.Session.get_credentials, "per_function", False):
        def get_credentials(self):
            return FunctionCredentials()
        get_credentials.per_function = True
        botocore.session.Session.get_credentials = get_credentials


def credentials_of(function: str) -> Credentials:
    """A function's credentials (the dispatcher polls a queue with its handler's role, as an
    event source mapping does)."""
    with acting_as(function):
        return FunctionCredentials()._of_thread()


@contextlib.contextmanager
def acting_as(function: str):
    outer = getattr(_current, "function", None)
    _current.function = function
    try:
        yield
    finally:
        _current.function = outer


def key_of(access_key_id: str):
    """The issued role credentials with this key id, as the S3 front door checks a presigned
    URL's signer."""
    from .sigv4 import Key

    for function, credentials in list(_issued.items()):
        if credentials.access_key == access_key_id:
            return Key(credentials.access_key, credentials.secret_key, f"role/{function}",
                       credentials.token)
    return None


def running() -> str | None:
    return getattr(_current, "function", None)
