"""Schema-driven fuzzing of the running local stack with schemathesis: every operation of the
served OpenAPI document, called by every role with its real authentication, with data the
document says is valid and data it says is not. A response fails when it is a 5xx, breaks the
schema documented for its status, has a status the document does not list for its route, does
not refuse data the document calls invalid, or is a refusal that does not name the field and
the reason in bounded size.

Each role is signed in as the website, the staff workstation or a system signs in:

- citizens with a Cognito ID token (tests/e2e/client.py `Citizen`, after the real-name step),
- each staff role as one staff member of that role with the identity pool's short-lived
  credentials, every request SigV4-signed (`Staff`, the signers of
  tests/e2e/test_rights_matrix.py),
- the systems with their long-lived keys (`Signed`),
- anyone without signing in, on the public routes.

Hypothesis draws the examples from a fixed seed (derandomize), so a run is repeatable; the
examples per operation come from FUZZ_EXAMPLES (a few in `make test`, thousands per role in
`make fuzz`). A run does not stop at the first failure: every request is counted, and each
distinct failure (role, operation, what failed, status) is kept with the curl command of its
first request, to be printed and asserted once the operation's examples are done."""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

# Examples per operation and role, half drawn valid and half invalid.
DEFAULT_EXAMPLES = 4          # about 400 requests in all, within 3 minutes on 2 shared cores
# A refusal quotes at most a short excerpt of what was sent (chalicelib/schemas EXCERPT), names
# at most 10 problems: its whole body stays far below this.
MAX_REFUSAL_BYTES = 8 * 1024

# The fuzzing citizen, a person of the local identity register of its own (local/people.json).
CITIZEN = {"name": "符振华", "id_number": "341602199409094352"}
ITEM = "SCJG-001"
DEPARTMENT = "SCJG"


def examples() -> int:
    value = os.environ.get("FUZZ_EXAMPLES", "")
    return int(value) if value.strip() else DEFAULT_EXAMPLES


@dataclass(frozen=True)
class Role:
    name: str
    signer: str | None               # staff id, system account ("kind:name"), "citizen" or None
    kinds: frozenset                 # the x-caller-role of the operations it calls
    scheme: str | None               # the security scheme of those operations

    def calls(self, operation: dict) -> bool:
        security = operation.get("security") or []
        schemes = {name for entry in security for name in entry}
        if self.scheme is None:
            return not schemes
        return self.scheme in schemes and operation.get("x-caller-role") in self.kinds


_DEPARTMENT = frozenset({"department", "staff"})
# One signer per role, as tests/e2e/test_rights_matrix.py SIGNERS: 市场监管 (SCJG) for the
# department's roles, 王楼村代办点, the city's supervision office, and the systems.
ROLES = [
    Role("public", None, frozenset(), None),
    Role("citizen", "citizen", frozenset({"citizen"}), "cognito"),
    Role("window clerk", "SCJG-001", _DEPARTMENT, "sigv4"),
    Role("approver", "SCJG-002", _DEPARTMENT, "sigv4"),
    Role("section chief", "SCJG-003", _DEPARTMENT, "sigv4"),
    Role("chief representative", "SCJG-000", _DEPARTMENT, "sigv4"),
    Role("agent operator", "BZQC-WLC-001", frozenset({"agent", "staff"}), "sigv4"),
    Role("supervision clerk", "BZ-JJJC-001", frozenset({"auditor", "staff"}), "sigv4"),
    Role("supervision head", "BZ-JJJC-003", frozenset({"auditor", "staff"}), "sigv4"),
    Role("hotline system", "hotline:BZ-12345", frozenset({"hotline", "staff"}), "sigv4"),
    Role("department system", "system:SW-JSXT", _DEPARTMENT, "sigv4"),
]
BY_NAME = {role.name: role for role in ROLES}


def operations(document: dict) -> list[tuple[str, dict]]:
    """(label "METHOD /path", operation) of every operation of the document."""
    return [(f"{method.upper()} {path}", operation)
            for path, item in document["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict)]


def pairs(document: dict) -> list[tuple[str, str]]:
    """(role, operation label) of every operation each role calls; every operation is called
    by at least one role."""
    found = [(role.name, label) for role in ROLES for label, op in operations(document)
             if role.calls(op)]
    uncovered = {label for label, _ in operations(document)} - {label for _, label in found}
    if uncovered:
        raise LookupError(f"operations no fuzzing role calls: {sorted(uncovered)}")
    return found


# -- authentication ---------------------------------------------------------------------------
class SigV4(requests.auth.AuthBase):
    """Signs the request as it is sent (method, URL, headers, body) with botocore's SigV4, as
    tests/e2e/client.py `signed_send` does."""

    def __init__(self, credentials, region: str):
        self.credentials, self.region = credentials, region

    def __call__(self, prepared):
        body = prepared.body or b""
        request = AWSRequest(method=prepared.method, url=prepared.url, data=body,
                             headers=dict(prepared.headers))
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        for name, value in request.headers.items():
            prepared.headers[name] = value
        return prepared


class Token(requests.auth.AuthBase):
    """A citizen's Cognito ID token, as the website sends it."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, prepared):
        prepared.headers["Authorization"] = self.token
        return prepared


@dataclass
class Caller:
    """A signed-in role: how its requests are signed, and ids of things it may reach, which
    half of the examples use as path parameters instead of drawn ones."""
    role: Role
    auth: requests.auth.AuthBase | None
    known: dict = field(default_factory=dict)


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def sign_in(stack: dict, role: Role, resources: dict) -> Caller:
    from tests.e2e.client import Citizen, Signed
    from tests.e2e.flows import as_staff

    if role.signer is None:
        return Caller(role, None, resources["public"])
    if role.signer == "citizen":
        citizen = Citizen(stack, CITIZEN["id_number"], name=CITIZEN["name"])
        return Caller(role, Token(citizen.token), resources["citizen"])
    if ":" in role.signer:
        signed = Signed(stack, role.signer)
        return Caller(role, SigV4(signed.credentials, signed.region), resources["signed"])
    staff = as_staff(stack, role.signer)
    return Caller(role, SigV4(staff.credentials, staff.region), resources["signed"])


def resources(stack: dict) -> dict:
    """Things that exist, created over HTTP as the roles would: the citizen's draft and
    consultation (which the department answers and the supervision office reads), a walk-in
    draft at the window, a draft of the agent point. Path parameters of these let the examples
    reach past "not found"."""
    from tests.e2e.client import Citizen
    from tests.e2e.flows import as_staff

    api = stack["api_url"]
    guide = requests.get(f"{api}/guide/items/{ITEM}", timeout=10).json()
    form = guide["form"]["examples"][0]
    material = next(m for m in guide["materials"] if m["required"])["id"]
    applicant = {"name": "刘洋", "id_number": "341602199503152010", "phone": "13956785678"}
    citizen = Citizen(stack, CITIZEN["id_number"], name=CITIZEN["name"])

    def made(answer, id_field):
        assert answer.status_code == 201, answer.text
        return answer.json()[id_field]

    own = made(citizen.post("/cases", {"item": ITEM, "hall": "BZ", "form": form}), "case_id")
    asked = made(citizen.post("/consultations", {"item": ITEM, "question": "需要哪些材料？"},
                              headers=key()), "task_id")
    walk_in = {"item": ITEM, "hall": "BZ", "form": form, "applicant": applicant}
    window = made(as_staff(stack, "SCJG-001").post("/department/cases", walk_in,
                                                   headers=key()), "case_id")
    agent = made(as_staff(stack, "BZQC-WLC-001").post("/agent/cases", walk_in, headers=key()),
                 "case_id")
    return {
        "public": {"code": ITEM},
        "citizen": {"case_id": own, "task_id": asked},
        "signed": {"case_id": window, "material_id": material, "branch_id": f"0:{DEPARTMENT}",
                   "task_id": asked, "staff_id": "SCJG-001", "period": "2026-11",
                   "kind": "csv", "index": "0", "agent_case_id": agent},
    }


# -- the run ----------------------------------------------------------------------------------
@dataclass
class Figures:
    """What one role's run did."""
    requests: int = 0
    server_errors: int = 0
    operations: int = 0
    failures: dict = field(default_factory=dict)      # signature → curl of its first request


TALLY: dict[str, Figures] = {}


def _signature(failure) -> str:
    """What makes a failure distinct: its title and the first line of its message without the
    values drawn (numbers, quoted excerpts)."""
    first = (getattr(failure, "message", "") or str(failure)).strip().splitlines()
    text = first[0] if first else ""
    text = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "…", text)
    return f"{getattr(failure, 'title', type(failure).__name__)}: {text[:160]}"


def refusal_problem(response) -> str | None:
    """A 400 or 422 of the application names the field and says why, in bounded size."""
    if response.status_code not in (400, 422):
        return None
    if len(response.content) > MAX_REFUSAL_BYTES:
        return f"a {response.status_code} of {len(response.content)} bytes (at most " \
               f"{MAX_REFUSAL_BYTES})"
    try:
        said = response.json()
    except ValueError:
        return f"a {response.status_code} whose body is not JSON"
    if not isinstance(said, dict) or not said.get("field") or not said.get("message"):
        return f"a {response.status_code} that names no field"
    return None


def fuzz(schema, label: str, caller: Caller, base_url: str, count: int) -> Figures:
    """Calls `label` with `count` examples (half valid, half invalid data, half of each with the
    caller's known ids as path parameters); returns the role's figures, its failures for this
    operation under `label`."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks

    method, path = label.split(" ", 1)
    operation = schema[path][method]
    chosen = [not_a_server_error, checks.status_code_conformance,
              checks.content_type_conformance, checks.response_schema_conformance,
              checks.negative_data_rejection]
    figures = TALLY.setdefault(caller.role.name, Figures())
    figures.operations += 1
    names = [p.name for p in operation.path_parameters]
    known = {name: caller.known[name] for name in names if name in caller.known}
    if path.startswith("/agent/cases/{case_id}") and "agent_case_id" in caller.known:
        known["case_id"] = caller.known["agent_case_id"]
    session = requests.Session()

    def record(signature: str, case, detail: str = "") -> None:
        key = f"{label}: {signature}"
        if key not in figures.failures:
            try:
                curl = case.as_curl_command(base_url=base_url)
            except Exception:                               # noqa: BLE001 - best effort
                curl = f"{case.method} {case.formatted_path}"
            said = "\n    ".join(detail.strip().splitlines()[:8])
            figures.failures[key] = f"{curl}   (signed as {caller.role.name})" \
                + (f"\n    {said}" if said else "")

    def call(case) -> None:
        response = case.call(base_url=base_url, session=session, auth=caller.auth, timeout=60)
        figures.requests += 1
        if response.status_code >= 500:
            figures.server_errors += 1
        try:
            case.validate_response(response, checks=chosen)
        except BaseExceptionGroup as group:
            for failure in group.exceptions:
                record(_signature(failure), case, getattr(failure, "message", ""))
        except AssertionError as failure:
            record(_signature(failure), case, getattr(failure, "message", str(failure)))
        problem = refusal_problem(response)
        if problem:
            record(f"Refusal unclear: {problem}", case)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        drawn = operation.as_strategy(generation_mode=mode)
        strategy = st.one_of(drawn, operation.as_strategy(generation_mode=mode,
                                                          path_parameters=known)) \
            if known else drawn
        run = settings(max_examples=max(1, count // 2), derandomize=True, database=None,
                       deadline=None, phases=[Phase.explicit, Phase.generate],
                       suppress_health_check=list(HealthCheck),
                       report_multiple_bugs=False)(given(strategy)(call))
        try:
            run()
        except Unsatisfiable:
            pass            # nothing of this operation can be drawn invalid (no parameters)
    session.close()
    return figures


def failures_of(role: str, label: str) -> dict:
    figures = TALLY.get(role, Figures())
    return {k: v for k, v in figures.failures.items() if k.startswith(f"{label}: ")}


def summary_lines() -> list[str]:
    lines = []
    for role in ROLES:
        figures = TALLY.get(role.name)
        if figures is None:
            continue
        lines.append(f"{role.name:<22} {figures.operations:>3} operations  "
                     f"{figures.requests:>6} requests  {figures.server_errors:>4} 5xx  "
                     f"{len(figures.failures):>3} distinct failures")
    total = sum(f.requests for f in TALLY.values())
    errors = sum(f.server_errors for f in TALLY.values())
    distinct = sum(len(f.failures) for f in TALLY.values())
    lines.append(f"{'all roles':<22} {sum(f.operations for f in TALLY.values()):>3} operations  "
                 f"{total:>6} requests  {errors:>4} 5xx  {distinct:>3} distinct failures")
    return lines


def load(document: dict):
    """The schemathesis schema of the served document, the roles' credentials never drawn. One
    change, to what is drawn only:
    JsonValue (any JSON value within bounds, recursive, arrays of up to 500 of itself) is drawn
    as any JSON value, since invalid drafts of its recursion grow without bound; the bounds
    themselves are checked by the request parser and tests/unit/test_request_schemas.py."""
    import copy

    import schemathesis

    drawn = copy.deepcopy(document)
    drawn["components"]["schemas"]["JsonValue"] = {}
    schema = schemathesis.openapi.from_dict(drawn)
    # The Authorization header is each role's own (its token or signature), never drawn.
    schema.config.generation.update(with_security_parameters=False)
    return schema
