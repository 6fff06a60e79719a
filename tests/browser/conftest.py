"""Browser tests of the website: Debian's Chromium driven by Playwright against the local stack
with the compressed clock (`fast_stack` of tests/conftest.py: one working day = 8 s).
Screenshots go to tests/browser/artifacts/."""
from __future__ import annotations

import hashlib
import re
import time
import uuid
import warnings
from pathlib import Path

import boto3
import pytest
import requests

from tests.e2e.client import Api, material_bytes, upload
from tests.e2e.flows import as_staff, decider, key, wait_for

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
AUDITOR = "BZ-JJJC-001"        # 监察员 of the city's supervision office (staff sign-in)
COMPANY_SETUP = "SCJG-001"
DEPARTMENTS = ("SCJG", "GA", "SW", "RSJ", "GJJ")
LATE = "GJJ"


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def shared():
    """What one test leaves for another (the case completed through the UI)."""
    return {}


def new_context(browser, stack, viewport=DESKTOP):
    context = browser.new_context(base_url=stack["api_url"], viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
def context(browser, fast_stack):
    context = new_context(browser, fast_stack)
    yield context
    context.close()


@pytest.fixture
def phone_context(browser, fast_stack):
    context = new_context(browser, fast_stack, PHONE)
    yield context
    context.close()


class PageErrors(list):
    pass


def watch(page) -> PageErrors:
    """Collects uncaught script errors and failed requests to other origins (there must be none)."""
    errors = PageErrors()
    page.on("pageerror", lambda error: errors.append(f"script error: {error}"))
    return errors


@pytest.fixture
def page(context, request):
    page = context.new_page()
    errors = watch(page)
    yield page
    shot(page, f"{request.node.name}-end")
    assert not errors, errors


@pytest.fixture
def phone_page(phone_context, request):
    page = phone_context.new_page()
    errors = watch(page)
    yield page
    shot(page, f"{request.node.name}-end")
    assert not errors, errors


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    except Exception as error:  # noqa: BLE001 - a screenshot never hides the test's own failure
        warnings.warn(f"screenshot {name} failed: {error}")


# -- the applicant's side through the API (for cases the UI test does not drive) -----------------
def sign_in_api(stack, username, password) -> Api:
    cognito = boto3.client("cognito-idp", endpoint_url=stack["cognito"]["endpoint"],
                           region_name=stack["cognito"]["region"],
                           aws_access_key_id="x", aws_secret_access_key="x")
    token = cognito.initiate_auth(
        ClientId=stack["cognito"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]["IdToken"]
    return Api(stack, {"Authorization": token})


def decide(stack, case_id, department, branch_id, decision):
    """The decision by the staff member whose post takes it, signed in as themself."""
    staff, idempotency_key = as_staff(stack, decider(department, decision, branch_id)), key()
    for attempt in range(6):
        answer = staff.post(f"/department/cases/{case_id}/branches/{branch_id}/decision",
                            {"decision": decision}, headers={"Idempotency-Key": idempotency_key})
        # Another department's decision or the workflow changed the case meanwhile: the API
        # says so (409) and a client reads again and retries, as the workstation does.
        if answer.status_code != 409 or "changed meanwhile" not in answer.text:
            break
        time.sleep(0.3 * (attempt + 1))
    assert answer.status_code == 200, answer.text
    return answer.json()


# The cases the tests filed (stack, citizen, case id): each is decided to its end after its test.
FILED: list = []


@pytest.fixture(autouse=True)
def _filed_cases_closed():
    """A case left open escalates every compressed working day (8 s here) for six weeks of them,
    and the stack the session's later tests share would spend itself on their messages: what a
    test filed and left open is decided to its end after it."""
    start = len(FILED)
    yield
    for stack, citizen, case_id in FILED[start:]:
        close(stack, citizen, case_id)
    del FILED[start:]


def close(stack, citizen: Api, case_id: str) -> None:
    for _ in range(6):
        view = citizen.get(f"/cases/{case_id}").json()
        if view.get("status") in ("completed", "refused", "correction_requested", None):
            return
        for branch in view["stages"]:
            if branch["status"] == "open":
                decision = "accept" if branch["kind"] == "acceptance" else "approve"
            elif branch["status"] == "paused" and branch["pause_reason"] == "special":
                decision = "special_end"
            else:
                continue
            try:
                decide(stack, case_id, branch["department"], branch["branch_id"], decision)
            except AssertionError:
                pass                  # decided meanwhile, or not this one's to decide yet
        time.sleep(1)


def file_case(stack, citizen: Api, closed_after_the_test: bool = True) -> dict:
    guide = requests.get(f"{stack['api_url']}/guide/items/{COMPANY_SETUP}", timeout=10).json()
    created = citizen.post("/cases", {"item": COMPANY_SETUP, "hall": "BZ",
                                      "form": guide["form"]["examples"][0]})
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    for spec in [m for m in guide["materials"] if m["required"]]:
        body = material_bytes(spec["id"] + uuid.uuid4().hex)
        ticket = citizen.post(f"/cases/{case_id}/uploads", {
            "material": spec["id"], "filename": f"{spec['id']}.pdf", "content_type": "application/pdf",
            "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
        assert ticket.status_code == 201, ticket.text
        assert upload(ticket.json(), body).status_code == 200
    wait_for(lambda: all(m["status"] == "received" for m in
                         citizen.get(f"/cases/{case_id}").json()["materials"].values()), timeout=30)
    submitted = citizen.post(f"/cases/{case_id}/submit", {}, headers={"Idempotency-Key": key()})
    assert submitted.status_code == 200, submitted.text
    if closed_after_the_test:
        FILED.append((stack, citizen, case_id))
    return {"case_id": case_id, "case_no": submitted.json()["case_no"]}


@pytest.fixture(scope="session")
def demo_citizen(fast_stack):
    demo = fast_stack["demo_citizen"]
    return {"username": demo["username"], "password": demo["password"],
            "api": sign_in_api(fast_stack, demo["username"], demo["password"])}


@pytest.fixture(scope="session")
def late_case(fast_stack, demo_citizen):
    """The demo citizen's company setup where four departments approve at once and GJJ lets its
    working day run out: a red light (~9 s after acceptance). GJJ decides at the end."""
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen, closed_after_the_test=False)    # closed at the end
    decide(fast_stack, case["case_id"], "SCJG", "0:SCJG", "accept")
    wait_for(lambda: len(citizen.get(f"/cases/{case['case_id']}").json()["stages"]) > 1, timeout=30)
    for department in DEPARTMENTS:
        if department != LATE:
            decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")
    wait_for(lambda: any(e["kind"] == "red" and e["department"] == LATE for e in
                         citizen.get(f"/cases/{case['case_id']}").json()["supervision"]),
             timeout=40, every=0.5)
    yield case
    decide(fast_stack, case["case_id"], LATE, f"1:{LATE}", "approve")


def sign_in_ui(page, username, password):
    page.goto("/#/signin")
    page.get_by_label("手机号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"#/cases$"))
    page.get_by_role("button", name="退出登录").wait_for()


def unlabelled_fields(page) -> list[str]:
    """Every input, select and textarea without a <label> or an aria-label(ledby)."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden')
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.outerHTML.slice(0, 160))""")


def no_horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def wait_seconds(seconds):
    time.sleep(seconds)


def low_contrast(page) -> list[str]:
    """Text whose contrast with its background is under WCAG AA (4.5:1, 3:1 for large text)."""
    return page.evaluate(r"""() => {
      const parse = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
        const p = m[1].split(',').map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
      const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
      const background = (el) => { for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
        return { r: 255, g: 255, b: 255, a: 1 }; };
      const bad = []; const seen = new Set();
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const text = walker.currentNode; const el = text.parentElement;
        if (!text.textContent.trim() || !el || seen.has(el)) continue;
        seen.add(el);
        if (el.closest('.visually-hidden, .uplot, [hidden], [disabled], noscript, script, style, option')) continue;
        const cs = getComputedStyle(el); const box = el.getBoundingClientRect();
        if (cs.visibility === 'hidden' || !box.width || !box.height) continue;
        const fg = parse(cs.color); const bg = background(el);
        const ratio = (Math.max(lum(fg), lum(bg)) + 0.05) / (Math.min(lum(fg), lum(bg)) + 0.05);
        const size = parseFloat(cs.fontSize); const large = size >= 24 || (parseInt(cs.fontWeight, 10) >= 700 && size >= 18.66);
        if (ratio < (large ? 3 : 4.5)) bad.push(`${ratio.toFixed(2)}:1 <${el.tagName.toLowerCase()} class="${el.className}"> ${text.textContent.trim().slice(0, 30)}`);
      }
      return bad;
    }""")


def finish_quietly(stack, case_id, citizen):
    """Decides whatever of a test's case is still open, so its clocks raise no more events."""
    try:
        decide(stack, case_id, "SCJG", "0:SCJG", "accept")
        wait_for(lambda: len(citizen.get(f"/cases/{case_id}").json()["stages"]) > 1, timeout=30)
        for department in DEPARTMENTS:
            decide(stack, case_id, department, f"1:{department}", "approve")
    except (AssertionError, requests.RequestException) as error:
        warnings.warn(f"could not finish case {case_id}: {error}")
