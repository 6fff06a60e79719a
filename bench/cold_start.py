"""Cold start, in one run:

- importing the app module from the source tree in a fresh interpreter (`-X importtime`), as a
  ratio to `import boto3` (the unit test's budget, tests/unit/test_cold_start.py);
- the first request as the cloud pays it: the deployment package (build/cloud/deployment.zip,
  slimmed and precompiled by infra/slim.py) is unpacked as Lambda unpacks it into /var/task,
  with this interpreter's site-packages after it standing for the runtime's own boto3 and
  botocore. Each fresh interpreter imports the handler module, wires the service layer
  (chalicelib.bootstrap) and answers one API Gateway proxy event the way Lambda delivers it
  (`app.app(event, context)`): a citizen's GET /cases, a DynamoDB query, against a moto server
  of this process's own with the tables of infra/resources.json. Timed inside the child from
  just before the handler's import, against `import boto3` alone timed the same way, runs
  interleaved;
- the size of each template variant in build/ and its count of resources, and what slimming
  did to the package."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3                  # importing the app, against `import boto3`
FIRST_REQUEST_GOAL = 1.5    # the first request's import and wiring, against the same
REGION = "us-east-1"
CITIZEN = {"sub": "0b9c5f2e-7d1a-4c52-9a57-cold0start001", "custom:id_number": "341602199001011234",
           "phone_number": "+8613800138000", "name": "张三", "cognito:username": "13800138000"}
SEEDED_CASES = 3
# Sources a package is built from: build/cloud is rebuilt when one is newer than its zip.
PACKAGE_SOURCES = ("app.py", "requirements.txt", ".chalice/config.json", "chalicelib",
                   "infra")


def import_us(module: str) -> int:
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int([ln for ln in run.stderr.splitlines()
                if ln.rstrip().endswith(f"| {module}")][-1].split("|")[1])


def run(repeat: int = 15) -> dict:
    app = [import_us("app") for _ in range(repeat)]
    boto3 = [import_us("boto3") for _ in range(repeat)]
    ratio = statistics.median(app) / statistics.median(boto3)
    figures = {"runs": repeat, "app_import_median_ms": round(statistics.median(app) / 1000, 1),
               "boto3_import_median_ms": round(statistics.median(boto3) / 1000, 1),
               "ratio": round(ratio, 2), "goal": f"< {GOAL}", "met": ratio < GOAL}
    package = ensure_package()
    from infra.slim import recorded

    figures["package"] = recorded(package)
    figures["first_request"] = first_request(package, repeat)
    figures["templates"] = templates()
    return figures


# -- the package and the templates -----------------------------------------------------------
def ensure_package() -> Path:
    """build/cloud as `make package` makes it, rebuilt when missing, made before slimming
    existed, or older than its sources."""
    out = ROOT / "build" / "cloud"
    package = out / "deployment.zip"
    from infra.slim import recorded

    if not (out / "template.json").exists() or not package.exists() \
            or recorded(package) is None or package.stat().st_mtime < _newest_source():
        subprocess.run([sys.executable, "-m", "infra.build", str(out)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return package


def _newest_source() -> float:
    newest = 0.0
    for name in PACKAGE_SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*")
                                               if p.is_file() and "__pycache__" not in p.parts]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def templates() -> dict:
    """Every variant present in build/ (build/cloud; build/cloud-cn and others when made)."""
    found = {}
    for path in sorted((ROOT / "build").glob("*/template.json")):
        resources = json.loads(path.read_text(encoding="utf-8")).get("Resources", {})
        found[str(path.relative_to(ROOT))] = {"bytes": path.stat().st_size,
                                               "resources": len(resources)}
    return found


# -- the first request -----------------------------------------------------------------------
BOTO3_ONLY = """
import json, sys, time      # as the first-request child (and Lambda's runtime) has them
started = time.perf_counter()
import boto3
print(round((time.perf_counter() - started) * 1e6))
"""

FIRST_REQUEST = """
import json, sys, time


class Context:      # the LambdaContext fields Chalice and Powertools read
    function_name, function_version, memory_limit_in_mb = "approval-dev", "$LATEST", "512"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:approval-dev"
    aws_request_id = "c0ld5tar-0000-4000-8000-000000000001"
    log_group_name, log_stream_name = "/aws/lambda/approval-dev", "2026/11/21/[$LATEST]cold"

    def get_remaining_time_in_millis(self):
        return 30000


events = json.loads(sys.argv[1])
started = time.perf_counter()
import app
imported = time.perf_counter()
boto3_by = "import" if "boto3" in sys.modules else None
from chalicelib import bootstrap
bootstrap.intake()
wired = time.perf_counter()
boto3_by = boto3_by or ("wiring" if "boto3" in sys.modules else None)
answers = [app.app(event, Context()) for event in events]
answered = time.perf_counter()
boto3_by = boto3_by or ("answer" if "boto3" in sys.modules else None)


print(json.dumps({
    "import_us": round((imported - started) * 1e6), "wiring_us": round((wired - imported) * 1e6),
    "answer_us": round((answered - wired) * 1e6),
    "answers": [{"status": a["statusCode"], "body": a["body"]} for a in answers],
    "boto3_imported_by": boto3_by,
    "from": {m: sys.modules[m].__file__ for m in ("app", "pynamodb", "botocore", "boto3")
             if m in sys.modules}}))
"""


def first_request(package: Path, repeat: int) -> dict:
    import logging

    from moto.server import ThreadedMotoServer

    from bench.calls import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # moto's request lines
    port = free_port()
    # Our own moto server, without request authentication (the default: no
    # INITIAL_NO_AUTH_ACTION_COUNT); the children sign with dummy keys.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        environment = _tables(endpoint)
        with tempfile.TemporaryDirectory() as task:
            with zipfile.ZipFile(package) as z:
                z.extractall(task)
            env = _function_environment(endpoint, environment)
            seeded = _child(FIRST_REQUEST, task, env, json.dumps(
                [_event("POST", "/cases", body) for body in _applications()]
                + [_event("GET", "/cases")]))
            statuses = [a["status"] for a in seeded["answers"]]
            listed = json.loads(seeded["answers"][-1]["body"])["cases"]
            assert statuses == [201] * SEEDED_CASES + [200] and len(listed) == SEEDED_CASES, \
                seeded["answers"]
            where = {m: ("package" if f.startswith(task) else "runtime")
                     for m, f in seeded["from"].items()}
            assert {m for m, w in where.items() if w == "package"} == {"app", "pynamodb"}, \
                seeded["from"]      # botocore (and boto3 when imported) from the "runtime"
            first, alone = [], []
            request = json.dumps([_event("GET", "/cases")])
            for _ in range(repeat):
                alone.append(int(_child(BOTO3_ONLY, task, env, raw=True)))
                first.append(_child(FIRST_REQUEST, task, env, request))
                assert first[-1]["answers"][0]["status"] == 200, first[-1]["answers"]
    finally:
        server.stop()

    def median_ms(values):
        return round(statistics.median(values) / 1000, 1)

    boto3 = statistics.median(alone)
    imports = [r["import_us"] for r in first]
    wired = [r["import_us"] + r["wiring_us"] for r in first]
    total = [r["import_us"] + r["wiring_us"] + r["answer_us"] for r in first]
    ratio = statistics.median(total) / boto3
    return {"runs": repeat, "route": "GET /cases (a citizen's cases: one DynamoDB query)",
            "cases_listed": SEEDED_CASES, "modules_from": where,
            "boto3_imported_by": first[0]["boto3_imported_by"],
            "boto3_import_median_ms": median_ms(alone),
            "import_median_ms": median_ms(imports),
            "wiring_median_ms": median_ms([r["wiring_us"] for r in first]),
            "answer_median_ms": median_ms([r["answer_us"] for r in first]),
            "import_and_wiring_median_ms": median_ms(wired),
            "first_request_median_ms": median_ms(total),
            "import_ratio": round(statistics.median(imports) / boto3, 2),
            "import_and_wiring_ratio": round(statistics.median(wired) / boto3, 2),
            "ratio": round(ratio, 2),
            # The goal is the first request's import and wiring; the answer's own cost (the
            # table client built, one query) is reported beside it.
            "goal": f"import and wiring < {FIRST_REQUEST_GOAL}",
            "met": statistics.median(wired) / boto3 < FIRST_REQUEST_GOAL}


def _child(code: str, task: str, env: dict, *args: str, raw: bool = False):
    """A fresh interpreter in the unpacked package, as Lambda starts one in /var/task: the
    package first on sys.path (the working directory of `-c`), then site-packages as the
    runtime's; -B since /var/task is read-only."""
    done = subprocess.run([sys.executable, "-B", "-c", code, *args], cwd=task, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the cold start child failed:\n{done.stderr[-3000:]}")
    last = done.stdout.strip().splitlines()[-1]    # the app's log lines come before
    return last if raw else json.loads(last)


def _function_environment(endpoint: str, tables: dict) -> dict:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    return {**keep, **stage.get("environment_variables", {}), **tables,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint, "AWS_LAMBDA_FUNCTION_NAME": "approval-dev",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "PYTHONDONTWRITEBYTECODE": "1"}


def _tables(endpoint: str) -> dict:
    """The DynamoDB tables of infra/resources.json, created as the local stack creates them;
    returns the functions' environment variables that name them (and the template's other
    resources, by their local names)."""
    import boto3

    from local import provision

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    resources = provision.template()["Resources"]
    names = {logical_id: provision.physical_name(logical_id, resource)
             for logical_id, resource in resources.items() if resource.get("Type")}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            provision._table(dynamodb, names[logical_id], resource["Properties"])
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    return {name: names[value["Ref"]] for name, value in variables.items()
            if "Ref" in value and value["Ref"] in names}


def _applications() -> list[dict]:
    from chalicelib import catalog

    item = catalog.published().item("GA-001")
    return [{"item": item["code"], "hall": item["halls"][0], "form": item["form"]["examples"][0]}
            for _ in range(SEEDED_CASES)]


def _event(method: str, path: str, body: dict | None = None) -> dict:
    """An API Gateway REST proxy event as API Gateway sends it after the Cognito authorizer."""
    headers = {"Accept": "application/json", "Authorization": "eyJraWQiOi...",
               "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
               "User-Agent": "Mozilla/5.0", "X-Forwarded-For": "203.0.113.9",
               "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": path, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {
            "resourceId": "k3x9q1", "resourcePath": path, "httpMethod": method,
            "extendedRequestId": "Ab1CdEfGhIjKlMn=", "requestTime": "21/Nov/2026:08:56:43 +0000",
            "path": f"/api{path}", "accountId": "123456789012", "protocol": "HTTP/1.1",
            "stage": "api", "domainPrefix": "a1b2c3d4e5", "requestTimeEpoch": 1795251403000,
            "requestId": "6f1c2b7e-2f0e-4c8a-9d0e-0c0ld5tart01",
            "identity": {"cognitoIdentityPoolId": None, "accountId": None,
                         "cognitoIdentityId": None, "caller": None, "sourceIp": "203.0.113.9",
                         "principalOrgId": None, "accessKey": None,
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None,
                         "userArn": None, "userAgent": "Mozilla/5.0", "user": None},
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "apiId": "a1b2c3d4e5",
            "authorizer": {"claims": {**CITIZEN, "token_use": "id", "email_verified": "false",
                                      "phone_number_verified": "true",
                                      "aud": "4s1ab2cd3ef4gh5ij6kl7mn8op",
                                      "iss": "https://cognito-idp.us-east-1.amazonaws.com/"
                                             "us-east-1_Citizens",
                                      "auth_time": "1795251400", "exp": "Sat Nov 21 09:56:40 "
                                      "UTC 2026", "iat": "Sat Nov 21 08:56:40 UTC 2026"}}},
        "body": None if body is None else json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False}
