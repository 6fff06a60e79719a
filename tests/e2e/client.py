"""A client of the running local stack, as a citizen's browser, a department's business system
or an auditor's tool would be: Cognito sign-in for citizens, SigV4 (botocore's signer) for keys."""
from __future__ import annotations

import hashlib
import json
import uuid

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class Api:
    def __init__(self, stack: dict, headers: dict | None = None):
        self.stack = stack
        self.base = stack["api_url"]
        self.headers = headers or {}

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        all_headers = {**self.headers, **(headers or {})}
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.send(method, self.base + path, data, all_headers)

    def send(self, method, url, data, headers):
        return requests.request(method, url, data=data, headers=headers, timeout=30)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


class Citizen(Api):
    """Signs up through the real Cognito API against the local endpoint, then signs in."""

    def __init__(self, stack: dict, id_number: str, name: str = "李四", password="Citizen2026pass"):
        cognito = boto3.client("cognito-idp", endpoint_url=stack["cognito"]["endpoint"],
                               region_name=stack["cognito"]["region"],
                               aws_access_key_id=stack["aws"]["access_key_id"],
                               aws_secret_access_key=stack["aws"]["secret_access_key"])
        username = "1" + str(uuid.uuid4().int)[:10]
        cognito.sign_up(ClientId=stack["cognito"]["client_id"], Username=username,
                        Password=password, UserAttributes=[
                            {"Name": "name", "Value": name},
                            {"Name": "phone_number", "Value": "+86" + username},
                            {"Name": "custom:id_number", "Value": id_number}])
        cognito.admin_confirm_sign_up(UserPoolId=stack["cognito"]["user_pool_id"],
                                      Username=username)
        tokens = cognito.initiate_auth(
            ClientId=stack["cognito"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]
        self.id_number = id_number
        self.token = tokens["IdToken"]
        super().__init__(stack, {"Authorization": self.token})


class Signed(Api):
    """A department, agent point or auditor calling with its SigV4 key."""

    def __init__(self, stack: dict, caller: str, secret: str | None = None):
        super().__init__(stack)
        pair = stack["callers"][caller]
        self.credentials = Credentials(pair["access_key_id"], secret or pair["secret_access_key"])
        self.region = stack["aws"]["region"]

    def send(self, method, url, data, headers):
        request = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        return requests.request(method, url, data=data, headers=dict(request.headers.items()),
                                timeout=30)


def material_bytes(name: str, size: int = 2048) -> bytes:
    seed = f"%PDF-1.7\n% {name}\n".encode()
    return (seed * (size // len(seed) + 1))[:size]


def announce(body: bytes, material: str, content_type="application/pdf", **over) -> dict:
    return {"material": material, "filename": f"{material}.pdf", "content_type": content_type,
            "size": len(body), "sha256": hashlib.sha256(body).hexdigest(), **over}


def upload(ticket: dict, body: bytes, headers: dict | None = None):
    # The HTTP client sets Content-Length from the body, as a browser does.
    sent = {k: v for k, v in ticket["headers"].items() if k.lower() != "content-length"}
    return requests.put(ticket["url"], data=body, headers={**sent, **(headers or {})}, timeout=30)
