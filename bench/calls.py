"""AWS calls per submission: one citizen creates an application, announces and uploads every
required material of company setup (SCJG-001), and submits. Counted, not timed, on the whole
local stack: every botocore call the functions make, by service and operation, split between
the API function and the upload-notification function. The client waits for each material's
notification before the next, so no write races another and the counts repeat exactly."""
from __future__ import annotations

import collections
import hashlib
import socket
import threading
import time
import uuid

import requests

ITEM = "SCJG-001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _caller(thread: str, service: str) -> str:
    """Whose call it is: the functions' (the API's or an event handler's), the workflow's own
    service integrations, or the event source mapping's polling (AWS's, in the cloud)."""
    import sys

    frame, ours = sys._getframe(2), False
    while frame is not None:
        name = frame.f_code.co_filename
        if "/chalicelib/" in name:
            ours = True
            break
        if "/moto/stepfunctions/" in name:
            return "workflow"
        frame = frame.f_back
    if not ours:
        return "event source polling" if service == "sqs" else "other"
    return "handler" if thread.startswith("dispatcher") else "api"


class CallCounter:
    """Counts botocore API calls made by the app's threads (API requests, dispatcher)."""

    def __init__(self):
        self.calls: collections.Counter = collections.Counter()
        self.recording = False        # everything the functions do
        self.waiting = False          # the client only polls: count the notifications alone

    def install(self):
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counted(client, operation, params):
            thread = threading.current_thread().name
            service = client.meta.service_model.service_name
            if counter.recording and thread != "bench-client" \
                    and not (counter.waiting and not thread.startswith("dispatcher")):
                counter.calls[(_caller(thread, service), service, operation)] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counted


def run(state_dir) -> dict:
    counter = CallCounter()
    counter.install()
    from local import stack as local_stack

    stack = local_stack.start(api_port=free_port(), aws_port=free_port(), s3_port=free_port(),
                              state_dir=state_dir)
    result = {}

    def client_flow():
        import boto3
        described = stack.description
        cognito = boto3.client("cognito-idp", endpoint_url=described["cognito"]["endpoint"],
                               region_name=described["cognito"]["region"],
                               aws_access_key_id=described["aws"]["access_key_id"],
                               aws_secret_access_key=described["aws"]["secret_access_key"])
        demo = described["demo_citizen"]
        token = cognito.initiate_auth(
            ClientId=described["cognito"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": demo["username"], "PASSWORD": demo["password"]},
        )["AuthenticationResult"]["IdToken"]
        headers = {"Authorization": token}
        api = described["api_url"]
        guide = requests.get(f"{api}/guide/items/{ITEM}", timeout=10).json()
        counter.recording = True
        case = requests.post(f"{api}/cases", headers=headers, timeout=10, json={
            "item": ITEM, "hall": guide["halls"][0],
            "form": guide["form"]["examples"][0]}).json()
        uploads = 0
        for spec in [m for m in guide["materials"] if m["required"]]:
            body = f"%PDF-1.7 {spec['id']} ".encode() * 64
            ticket = requests.post(f"{api}/cases/{case['case_id']}/uploads", headers=headers,
                                   timeout=10, json={
                                       "material": spec["id"], "filename": f"{spec['id']}.pdf",
                                       "content_type": spec["content_types"][0],
                                       "size": len(body),
                                       "sha256": hashlib.sha256(body).hexdigest()}).json()
            sent = {k: v for k, v in ticket["headers"].items() if k != "Content-Length"}
            assert requests.put(ticket["url"], data=body, headers=sent, timeout=10).ok
            uploads += 1
            # Wait (unrecorded) for S3's notification to be handled, so that no write races
            # another and the counts are the same on every run.
            counter.waiting = True
            while requests.get(f"{api}/cases/{case['case_id']}", headers=headers, timeout=10
                               ).json()["materials"][spec["id"]]["status"] != "received":
                time.sleep(0.1)
            counter.waiting = False
        done = requests.post(f"{api}/cases/{case['case_id']}/submit", headers={
            **headers, "Idempotency-Key": str(uuid.uuid4())}, json={}, timeout=10).json()
        time.sleep(0.5)
        counter.recording = False
        result.update(case_no=done["case_no"], materials=uploads)

    worker = threading.Thread(target=client_flow, name="bench-client")
    worker.start()
    worker.join()
    stack.stop()
    by_function: dict = {}
    for (who, service, operation), n in sorted(counter.calls.items()):
        by_function.setdefault(who, {}).setdefault(service, {})[operation] = n
    totals = {who: sum(n for ops in services.values() for n in ops.values())
              for who, services in by_function.items()}
    return {"item": ITEM, "required_materials": result["materials"],
            "case_no": result["case_no"], "calls": by_function, "totals": totals,
            "client_s3_puts": result["materials"]}
