"""A client of the running local stack, as a citizen's browser, a staff member's workstation or a
system would be: Cognito sign-in for citizens; for staff, the staff user pool and the identity
pool's short-lived credentials; a system's long-lived key; SigV4 by botocore's signer."""
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


# Accounts signed up in a running stack, by identity number: one number has one account, so a
# second citizen of the same number signs in to the first one's account.
_accounts: dict[tuple[str, str], tuple[str, str]] = {}


def cognito_client(stack: dict):
    """Cognito as the website calls it: the public web client, no AWS signature."""
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client("cognito-idp", endpoint_url=stack["cognito"]["endpoint"],
                        region_name=stack["cognito"]["region"],
                        config=Config(signature_version=UNSIGNED))


def texted_code(stack: dict, phone: str) -> str:
    """The last code the stack texted to `phone` (its local outbox, as the phone shows it)."""
    import re

    texts = requests.get(stack["sms_outbox_url"], params={"phone": phone}, timeout=10).json()
    codes = [m.group(1) for t in texts["messages"]
             for m in [re.search(r"验证码为(\d{6})", t["text"])] if m]
    assert codes, f"no code was texted to {phone}"
    return codes[-1]


def new_phone() -> str:
    """A mainland mobile number no other account of the run has."""
    return "13" + str(uuid.uuid4().int)[:9]


def sign_up(stack: dict, password: str, phone: str | None = None) -> str:
    """Signs up with the phone alone (all the web client may write), confirms with the code
    texted to it; returns the username (the phone)."""
    cognito = cognito_client(stack)
    username = phone or new_phone()
    cognito.sign_up(ClientId=stack["cognito"]["client_id"], Username=username,
                    Password=password,
                    UserAttributes=[{"Name": "phone_number", "Value": "+86" + username}])
    cognito.confirm_sign_up(ClientId=stack["cognito"]["client_id"], Username=username,
                            ConfirmationCode=texted_code(stack, username))
    return username


def sign_in(stack: dict, username: str, password: str) -> dict:
    return cognito_client(stack).initiate_auth(
        ClientId=stack["cognito"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]


class Citizen(Api):
    """A citizen's account, through the real Cognito API against the local endpoint, as the
    website does it: signs up, confirms with the code texted to the phone, signs in and takes
    the real-name step (`real_name=False`: an account that has not). A second Citizen of a
    number already bound in this stack signs in to that number's account."""

    def __init__(self, stack: dict, id_number: str, name: str = "李四",
                 password="Citizen2026pass", real_name: bool = True):
        known = _accounts.get((stack["api_url"], id_number)) if real_name else None
        if known:
            self.username, password = known
        else:
            self.username = sign_up(stack, password)
        self.password = password
        self.tokens = sign_in(stack, self.username, password)
        super().__init__(stack, {"Authorization": self.tokens["IdToken"]})
        if real_name and not known:
            bound = self.post("/me/real-name", {"name": name, "id_number": id_number})
            assert bound.status_code == 200, bound.text
            _accounts[(stack["api_url"], id_number)] = (self.username, password)
            self.refresh()
        self.id_number = id_number if real_name else None

    @property
    def token(self) -> str:
        return self.tokens["IdToken"]

    def refresh(self) -> None:
        """A new ID token from the refresh token, as the website gets one after the real-name
        step: it carries the account's attributes as they are now."""
        fresh = cognito_client(self.stack).initiate_auth(
            ClientId=self.stack["cognito"]["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": self.tokens["RefreshToken"]})["AuthenticationResult"]
        self.tokens = {**self.tokens, **fresh}
        self.headers = {**self.headers, "Authorization": self.tokens["IdToken"]}


class Staff(Api):
    """A staff member signed in as themself, as the staff workstation does it: the staff user
    pool (USER_PASSWORD_AUTH), then the identity pool's short-lived credentials for that ID
    token (GetId, GetCredentialsForIdentity), every request SigV4-signed with them."""

    def __init__(self, stack: dict, staff_id: str, password: str | None = None):
        super().__init__(stack)
        staff = stack["staff"]
        self.staff_id = staff_id
        self.region = staff["region"]
        idp = boto3.client("cognito-idp", endpoint_url=staff["endpoint"], region_name=self.region,
                           aws_access_key_id="unsigned", aws_secret_access_key="unsigned")
        tokens = idp.initiate_auth(
            ClientId=staff["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": staff_id,
                            "PASSWORD": password or staff["demo_password"]})
        self.id_token = tokens["AuthenticationResult"]["IdToken"]
        pool = boto3.client("cognito-identity", endpoint_url=staff["endpoint"],
                            region_name=self.region, aws_access_key_id="unsigned",
                            aws_secret_access_key="unsigned")
        logins = {staff["login_provider"]: self.id_token}
        self.identity_id = pool.get_id(IdentityPoolId=staff["identity_pool_id"],
                                       Logins=logins)["IdentityId"]
        issued = pool.get_credentials_for_identity(IdentityId=self.identity_id,
                                                   Logins=logins)["Credentials"]
        self.credentials = Credentials(issued["AccessKeyId"], issued["SecretKey"],
                                       issued["SessionToken"])
        self.expiration = issued["Expiration"]

    def send(self, method, url, data, headers):
        return signed_send(self.credentials, self.region, method, url, data, headers)

    def expire(self) -> None:
        """Ends these credentials now, as an hour passing would (the local stack's hook)."""
        answer = requests.post(self.stack["staff"]["expire_credentials_url"],
                               json={"access_key_id": self.credentials.access_key}, timeout=10)
        assert answer.status_code == 200, answer.text


def signed_send(credentials, region, method, url, data, headers):
    request = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers.items()),
                            timeout=30)


class Signed(Api):
    """A system calling with its long-lived SigV4 key, as a named system account (the 12345
    hotline's system `hotline:BZ-12345`, a department's own system `system:SW-JSXT`)."""

    def __init__(self, stack: dict, caller: str, secret: str | None = None):
        super().__init__(stack)
        pair = stack["callers"][caller]
        self.credentials = Credentials(pair["access_key_id"], secret or pair["secret_access_key"])
        self.region = stack["aws"]["region"]

    def send(self, method, url, data, headers):
        return signed_send(self.credentials, self.region, method, url, data, headers)


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
