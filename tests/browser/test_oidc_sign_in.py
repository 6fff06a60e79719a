"""The China variant's sign-in in Chromium: where /web-config.json names an OpenID Connect provider,
the website signs a citizen in through it (authorization code flow with PKCE, S256; `state` and
`nonce` checked) instead of Cognito's forms.

The provider is a tiny one run by the test on loopback (discovery, an authorize endpoint that
approves at once and redirects back with a code, a token endpoint that checks the PKCE verifier
against the challenge and the redirect URI and returns an RS256 ID token signed with a key made
here, and its JWKS). The website is the running local stack's, which stays on Cognito: only the
browser's /web-config.json is answered with that provider (Playwright's route). The local gateway
checks Cognito tokens, so the citizen API calls the pages make with the provider's ID token are
answered by the test too (GET /cases), which records the Authorization header they carry."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import expect

from chalicelib.adapters import oidc

from .conftest import shot

expect.set_options(timeout=20_000)
CLIENT_ID = "bozhou-approval-web"
ID_NUMBER_CLAIM = "idcard"            # a provider's own name for the identity number claim
CITIZEN = {"sub": "ah-7f3c2a91", "name": "张晓明", "idcard": "341602199001011234",
           "phone_number": "+8613955880011"}
SIGN_IN = "通过统一身份认证平台登录"
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")     # RFC 7636 4.1


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    """What the provider was asked and what it issued; `tamper_state` answers with another state,
    `replay_nonce` issues an ID token with another sign-in's nonce."""

    def __init__(self, redirect_uri: str, person: dict | None = None):
        self.redirect_uri = redirect_uri          # the one registered for CLIENT_ID
        self.person = person or CITIZEN           # whom it signs in
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-" + secrets.token_hex(4)
        self.codes: dict[str, dict] = {}
        self.authorizations: list[dict] = []
        self.token_requests: list[dict] = []
        self.refusals: list[str] = []
        self.issued: list[str] = []
        self.tamper_state = False
        self.replay_nonce = None
        self.issuer = ""

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict) -> tuple[int, dict]:
        self.authorizations.append(query)
        problem = (
            "unknown client" if query.get("client_id") != CLIENT_ID else
            f"redirect_uri not registered: {query.get('redirect_uri')}"
            if query.get("redirect_uri") != self.redirect_uri else
            "response_type must be code" if query.get("response_type") != "code" else
            "PKCE S256 required" if query.get("code_challenge_method") != "S256"
            or not re.fullmatch(r"[A-Za-z0-9_-]{43}", query.get("code_challenge", "")) else
            "openid scope missing" if "openid" not in query.get("scope", "").split() else
            "state and nonce required" if not query.get("state") or not query.get("nonce")
            else None)
        if problem:
            self.refusals.append(problem)
            return 400, {"error": "invalid_request", "error_description": problem}
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"challenge": query["code_challenge"], "nonce": query["nonce"],
                            "redirect_uri": query["redirect_uri"], "client_id": query["client_id"]}
        state = "forged-" + secrets.token_urlsafe(8) if self.tamper_state else query["state"]
        answer = urlencode({"code": code, "state": state})
        return 302, {"Location": f"{query['redirect_uri']}?{answer}"}

    def token(self, form: dict) -> tuple[int, dict]:
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)       # a code is good once
        verifier = form.get("code_verifier", "")
        problem = (
            "unsupported grant" if form.get("grant_type") != "authorization_code" else
            "unknown or used code" if grant is None else
            "another client" if form.get("client_id") != grant["client_id"] else
            "redirect_uri differs from the authorization request"
            if form.get("redirect_uri") != grant["redirect_uri"] else
            "malformed code_verifier" if not VERIFIER.fullmatch(verifier) else
            "code_verifier does not match the code_challenge"
            if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"] else None)
        if problem:
            self.refusals.append(problem)
            return 400, {"error": "invalid_grant", "error_description": problem}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 3600,
                  "auth_time": now, "nonce": self.replay_nonce or grant["nonce"], **self.person}
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        self.issued.append(id_token)
        return 200, {"access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                     "expires_in": 3600, "id_token": id_token}


def serve(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def cors(self):
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
            self.send_header("Access-Control-Allow-Methods", "GET, POST")

        def answer(self, status, body=None, headers=None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.cors()
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self):
            self.answer(204)

        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/oidc/.well-known/openid-configuration":
                base = provider.issuer
                self.answer(200, {
                    "issuer": base, "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "scopes_supported": ["openid", "profile", "phone"]})
            elif url.path == "/oidc/authorize":
                status, detail = provider.authorize(query)
                if status == 302:
                    self.answer(302, headers=detail)
                else:
                    self.answer(status, detail)
            elif url.path == "/oidc/jwks":
                self.answer(200, provider.jwks())
            else:
                self.answer(404, {"error": "not_found"})

        def do_POST(self):
            if urlsplit(self.path).path != "/oidc/token":
                self.answer(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self.answer(*provider.token(form))

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def provider(fast_stack):
    provider = Provider(redirect_uri=f"{fast_stack['api_url']}/")
    server = serve(provider)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}/oidc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def china_site(context, provider, fast_stack):
    """The local website, told by /web-config.json to sign citizens in with the provider; the
    citizen API's GET /cases answered here (`seen` keeps each call's Authorization header,
    `answer` what it is told: the local gateway would refuse a token that is not Cognito's)."""
    api = fast_stack["api_url"]
    calls = {"seen": [], "answer": (200, {"cases": []})}

    def config(route):
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"oidc": {
            "issuer": provider.issuer, "client_id": CLIENT_ID, "scope": "openid profile phone",
            "id_number_claim": ID_NUMBER_CLAIM}}))

    def my_cases(route):
        calls["seen"].append(route.request.headers.get("authorization"))
        status, body = calls["answer"]
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    context.route(f"{api}/web-config.json", config)
    context.route(lambda url: url.startswith(api) and urlsplit(url).path == "/cases", my_cases)
    return calls


def kept(page, name="bz.idToken"):
    return page.evaluate(f"sessionStorage.getItem({json.dumps(name)})")


def sign_in(page):
    page.goto("/#/signin")
    page.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(re.compile(r"#/cases$"))
    page.get_by_role("button", name="退出登录").wait_for()


def test_a_citizen_signs_in_through_the_identity_platform_and_out(page, china_site, provider,
                                                                   fast_stack):
    api = fast_stack["api_url"]
    page.goto("/#/signin")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_label("手机号")).to_have_count(0)      # no Cognito form
    expect(page.get_by_label("密码")).to_have_count(0)
    shot(page, "oidc-sign-in")

    page.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(re.compile(r"#/cases$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的办件")
    account = page.locator("#nav-account")
    expect(account).to_contain_text(f"您好，{CITIZEN['name']}")
    expect(account).not_to_contain_text("未实名")
    assert "code=" not in page.url and "state=" not in page.url, page.url
    shot(page, "oidc-signed-in")

    # The provider saw one authorization request with PKCE S256 and the site's root as redirect
    # URI, and one token request whose verifier matched the challenge (it refuses otherwise).
    assert provider.refusals == []
    [asked] = provider.authorizations
    assert asked["redirect_uri"] == f"{api}/" and asked["code_challenge_method"] == "S256"
    assert "code_verifier" not in asked
    [exchanged] = provider.token_requests
    assert exchanged["redirect_uri"] == f"{api}/" and exchanged["client_id"] == CLIENT_ID
    assert "client_secret" not in exchanged

    # The token kept is the provider's, for this sign-in (its nonce), and verifies as the API's
    # Lambda authorizer verifies it (the provider's JWKS); it is what the API calls carried.
    token = kept(page)
    assert token == provider.issued[-1]
    verifier = oidc.Verifier(oidc.Provider(provider.issuer, CLIENT_ID, f"{provider.issuer}/jwks",
                                           ID_NUMBER_CLAIM))
    claims = verifier.verify(f"Bearer {token}")
    assert claims["iss"] == provider.issuer and claims["nonce"] == asked["nonce"]
    assert oidc.context_of(claims, verifier.provider)["id_number"] == CITIZEN["idcard"]
    assert china_site["seen"] and set(china_site["seen"]) == {token}

    # The real-name step is the provider's claim: no form, the number masked.
    page.goto("/#/realname")
    done = page.locator("#real-name-done")
    expect(done).to_contain_text("已通过统一身份认证平台实名认证")
    expect(done).to_contain_text("341602********1234")
    expect(page.get_by_role("button", name="提交实名认证")).to_have_count(0)
    page.goto("/#/signup")           # accounts are the provider's
    expect(page.locator("main")).to_contain_text("请在统一身份认证平台办理")
    expect(page.get_by_label("手机号")).to_have_count(0)

    # The API refusing the token (expired at the authorizer): back to sign in, told why.
    china_site["answer"] = (401, {"message": "Unauthorized"})
    page.goto("/#/cases")
    page.wait_for_url(re.compile(r"#/signin\?expired=1&next=%2Fcases$"))
    expect(page.locator("main")).to_contain_text("登录已失效或尚未登录，请重新登录后继续")
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    assert kept(page) is None

    # Signed in again; the token expiring in the browser sends the citizen to sign in too.
    china_site["answer"] = (200, {"cases": []})
    sign_in(page)
    assert kept(page) == provider.issued[-1] and len(provider.issued) == 2
    page.goto("/#/guide")
    page.clock.set_system_time(datetime.now() + timedelta(hours=2))
    page.get_by_role("link", name="我的办件").click()
    page.wait_for_url(re.compile(r"#/signin\?next=%2Fcases$"))
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    assert kept(page) is None
    page.clock.set_system_time(datetime.now())

    # Sign-out clears the kept token.
    sign_in(page)
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#nav-account")).to_contain_text("登录 / 注册")
    assert kept(page) is None and kept(page, "bz.signInVia") is None
    page.goto("/#/cases")
    page.wait_for_url(re.compile(r"#/signin\?next=%2Fcases$"))


def test_an_answer_with_a_tampered_state_is_refused(page, china_site, provider):
    provider.tamper_state = True
    page.goto("/#/signin")
    page.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(re.compile(r"#/signin/callback$"))
    refused = page.locator("#sign-in-refused")
    expect(refused).to_contain_text("登录校验未通过")
    expect(refused).to_contain_text("state 不符")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录未完成")
    shot(page, "oidc-state-refused")
    assert kept(page) is None
    assert provider.token_requests == []             # the code was never exchanged
    expect(page.locator("#nav-account")).to_contain_text("登录 / 注册")

    # An answer this tab never asked for (a code pushed at the citizen) is refused the same way.
    page.goto("/?code=pushed-by-someone&state=anything")
    expect(page.locator("#sign-in-refused")).to_contain_text("state 不符")
    assert provider.token_requests == [] and kept(page) is None

    # An ID token minted for another sign-in (its nonce) is refused after the exchange.
    provider.tamper_state = False
    provider.replay_nonce = "nonce-of-another-sign-in"
    page.get_by_role("button", name="重新登录").click()
    expect(page.locator("#sign-in-refused")).to_contain_text("nonce 不符")
    assert len(provider.token_requests) == 1 and kept(page) is None

    # Starting again from the page works.
    provider.replay_nonce = None
    page.get_by_role("button", name="重新登录").click()
    page.wait_for_url(re.compile(r"#/cases$"))
    assert kept(page) == provider.issued[-1]
