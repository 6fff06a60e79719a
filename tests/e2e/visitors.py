"""A visitor without an account, as the local stack meets one: a mobile number, the texts it
received (read from the local outbox, .local/stack.json's `sms_outbox_url`), and requests to
the anonymous routes, which the gateway throttles hard (infra/limits.py): a test waits its turn
as a polite client would, instead of failing on someone else's burst."""
from __future__ import annotations

import random
import re
import time

import requests


def new_phone() -> str:
    """A mobile number no other test uses (each number gets five codes a day)."""
    return "139" + f"{random.randrange(10 ** 8):08d}"


def texts(stack: dict, phone: str) -> list[str]:
    answer = requests.get(stack["sms_outbox_url"], params={"phone": phone}, timeout=10)
    answer.raise_for_status()
    return [m["text"] for m in answer.json()["messages"]]


def code_of(stack: dict, phone: str) -> str:
    """The last code texted to `phone`."""
    codes = [m.group(1) for t in texts(stack, phone) for m in [re.search(r"验证码为(\d{6})", t)]
             if m]
    assert codes, f"no code was texted to {phone}"
    return codes[-1]


def throttled(answer: requests.Response) -> bool:
    """The gateway's 429 (its body has only a message); the service's own 429 names a field."""
    return answer.status_code == 429 and "field" not in answer.json()


def post(stack: dict, path: str, body: dict, headers: dict | None = None,
         patience: float = 30.0) -> requests.Response:
    """POST to an anonymous route, waiting out the gateway's throttling."""
    deadline = time.monotonic() + patience
    while True:
        answer = requests.post(stack["api_url"] + path, json=body, headers=headers or {},
                               timeout=30)
        if not throttled(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")))


def verified(stack: dict, phone: str | None = None) -> tuple[str, str]:
    """A phone and the code texted to it."""
    phone = phone or new_phone()
    sent = post(stack, "/visits/codes", {"phone": phone})
    assert sent.status_code == 201, sent.text
    return phone, code_of(stack, phone)
