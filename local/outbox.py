"""The local stack's text-message outbox: what the system texted, readable without a phone.

In the cloud a text message reaches a phone through SNS. Locally moto's SNS keeps every
published SMS in its backend and delivers none, so a person trying the visitor's complaint, or a
test, reads the code here instead:

    GET {aws endpoint}/_local/sms/outbox?phone=13955812345

answers {"phone": ..., "messages": [{"message_id", "phone", "text"}, ...]} in the order sent (all
numbers without `phone`; a +86 prefix is ignored). Read-only; served by the process running
moto, in front of moto's own routing, like the cameras' control path (local/cameras.py)."""
from __future__ import annotations

import json
import re

PATH = "/_local/sms/outbox"


def messages(phone: str | None = None) -> list[dict]:
    """The text messages moto's SNS holds (every account and region), oldest first."""
    from moto.sns.models import sns_backends

    wanted = _national(phone) if phone else None
    found = []
    for account in list(sns_backends.values()):
        for backend in list(dict.values(account)):
            for message_id, (number, text) in list(backend.sms_messages.items()):
                if wanted is None or _national(number) == wanted:
                    found.append({"message_id": message_id, "phone": number, "text": text})
    return found


def _national(number: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def serve(aws_endpoint: str) -> str:
    """Serves the outbox in this process's moto server; returns its address."""
    serve_outbox()
    return aws_endpoint + PATH


def serve_outbox() -> None:
    """Idempotent: routes PATH to the outbox in this process's moto server."""
    from .paths import mount

    mount(PATH, _outbox_app)


def _outbox_app(environ, start_response):
    from werkzeug.wrappers import Request, Response

    request = Request(environ)
    if request.method != "GET":
        response = Response(json.dumps({"error": "the outbox is read-only: GET"}), 405,
                            content_type="application/json", headers={"Allow": "GET"})
    else:
        phone = request.args.get("phone") or None
        response = Response(json.dumps({"phone": phone, "messages": messages(phone)},
                                       ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    return response(environ, start_response)
