"""Routes of the approval API. Routing only: callers are verified by API Gateway (Cognito for
citizens, IAM SigV4 for departments, agent points and auditors) and the work is done by the
service layer in chalicelib.

Every route of the system is in this one file, on purpose, as Chalice's own samples keep them:
`chalice package` reads the routes, authorizers and event sources from the app object, and one
place lists everything the API answers (about 60 routes, each a decorator and a call)."""
import functools
import os

from chalice import (Chalice, CognitoUserPoolAuthorizer, Cron, IAMAuthorizer, Rate,
                     Response)

from chalicelib import bootstrap
from chalicelib.adapters.http import (BODY_SCHEMA, actor_of, caller_of, check_query,
                                      citizen_username, idempotency_key, json_object, paged,
                                      query_int, staff_of)
from chalicelib.domain.errors import DomainError
from chalicelib.logs import logger

app = Chalice(app_name="approval")
app.api.cors = False

signed = IAMAuthorizer()

# Citizens sign in with Cognito, or where Cognito is not offered (AWS's China regions) with an
# OpenID Connect provider whose ID token a Lambda authorizer verifies: chosen when the app is
# imported, for packaging (infra/build.py) and in every function of the deployed variant.
CITIZEN_SIGN_IN = os.environ.get("CITIZEN_SIGN_IN", "cognito")
if CITIZEN_SIGN_IN == "oidc":
    @app.authorizer(ttl_seconds=300, header="Authorization")
    def citizen_sign_in(auth_request):
        """The identity provider's ID token, verified (chalicelib/adapters/oidc.py): a policy
        allowing every citizen route, the citizen's claims in its context; 401 otherwise."""
        from chalice import AuthResponse, UnauthorizedError

        from chalicelib.adapters import oidc

        verifier = oidc.verifier()
        try:
            claims = verifier.verify(auth_request.token)
        except oidc.Refused as refusal:
            logger.info("sign-in refused", extra={"reason": str(refusal)})
            raise UnauthorizedError("Unauthorized")
        return AuthResponse(routes=citizen_routes(), principal_id=claims["sub"],
                            context=oidc.context_of(claims, verifier.provider))

    citizen = citizen_sign_in
elif CITIZEN_SIGN_IN == "cognito":
    citizen = CognitoUserPoolAuthorizer(
        "Citizens", header="Authorization",
        provider_arns=[os.environ.get("CITIZEN_POOL_ARN",
                                      "arn:aws:cognito-idp:us-east-1:123456789012:userpool/"
                                      "citizens")])
else:
    raise RuntimeError(f"CITIZEN_SIGN_IN is cognito or oidc, not {CITIZEN_SIGN_IN!r}")


@functools.cache
def citizen_routes():
    """Every route behind the citizens' authorizer, path parameters as wildcards: the policy
    API Gateway caches for a token must cover all of them, not only the first one called."""
    import re

    from chalice import AuthRoute

    return [AuthRoute(re.sub(r"\{[^}]+\}", "*", path), [method])
            for path, methods in sorted(app.routes.items())
            for method, entry in sorted(methods.items()) if entry.authorizer is citizen]


def route(path, body=None, **options):
    """app.route, with every refusal of the rules answered as its 4xx (Chalice turns any other
    exception into a 500 before middleware could see it), and one log line per request naming
    the verified caller and the case, for the auditors. `body` names the JSON Schema of the
    request's body (chalicelib/schemas/<body>.json): the view's json_object(request) refuses a
    body that breaks it, after the caller's own checks and before any service runs."""
    def register(view):
        @functools.wraps(view)
        def answered(**params):
            request = app.current_request
            logger.thread_safe_append_keys(route=path, method=request.method,
                                           actor=actor_of(request),
                                           case_id=params.get("case_id"),
                                           task_id=params.get("task_id"))
            expecting = BODY_SCHEMA.set(body)
            try:
                idempotency_key(request)        # a key that is sent is a key, on every route
                check_query(request, path)      # and a filter is one the description allows
                response = view(**params)
                status = response.status_code if isinstance(response, Response) else 200
                logger.info("answered", extra={"status": status})
                return response
            except DomainError as error:
                logger.info("refused", extra={"status": error.status, "reason": error.message,
                                              "field": error.field})
                return Response(error.to_dict(), status_code=error.status)
            finally:
                BODY_SCHEMA.reset(expecting)
                logger.thread_safe_clear_keys()
        answered.body_schema = body
        return app.route(path, **options)(answered)
    return register


# -- the website (public static files, same origin as the API) -------------------------------
WEB_TYPES = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
             "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
             "svg": "image/svg+xml", "json": "application/json"}


@app.route("/", methods=["GET"])
def website():
    return _web_file("index.html")


@app.route("/web/{name}", methods=["GET"])
def web_file(name):
    return _web_file(name)


@app.route("/web/js/{name}", methods=["GET"])
def web_script(name):
    return _web_file(f"js/{name}")


@app.route("/web/vendor/{name}", methods=["GET"])
def web_vendor(name):
    return _web_file(f"vendor/{name}")


@app.route("/web-config.json", methods=["GET"])
def web_config():
    """Where the browser signs citizens in: the user pool's app client and Cognito endpoint,
    or the OpenID Connect provider, our client id there, the scopes the website asks for and the
    claim carrying the identity number (chalicelib/web/js/oidc.mjs); and where staff sign in."""
    from chalicelib.adapters.identity import staff_web_config

    if CITIZEN_SIGN_IN == "oidc":
        return {"oidc": {"issuer": os.environ.get("OIDC_ISSUER", ""),
                         "client_id": os.environ.get("OIDC_AUDIENCE", ""),
                         "scope": os.environ.get("OIDC_SCOPE") or "openid profile phone",
                         "id_number_claim": os.environ.get("OIDC_ID_NUMBER_CLAIM") or "id_number"},
                "staff": staff_web_config(os.environ)}
    region = os.environ.get("AWS_REGION", "us-east-1")
    config = {"cognito": {"region": region, "client_id": os.environ.get("CITIZEN_CLIENT_ID", ""),
                          "endpoint": os.environ.get("COGNITO_ENDPOINT")
                          or f"https://cognito-idp.{region}.amazonaws.com/"}}
    if os.environ.get("SMS_OUTBOX_URL"):     # the local stack: its texts are read there
        config["sms_outbox_url"] = os.environ["SMS_OUTBOX_URL"]
    config["staff"] = staff_web_config(os.environ)     # staff sign in as themselves
    return config


def _web_file(relative):
    import re
    from pathlib import Path

    folder = Path(__file__).parent / "chalicelib" / "web"
    extension = relative.rsplit(".", 1)[-1]
    path = folder / relative
    if not re.fullmatch(r"(js/|vendor/)?[A-Za-z0-9][A-Za-z0-9._-]*", relative) \
            or extension not in WEB_TYPES or not path.is_file():
        return Response({"error": "NotFound", "message": f"no page {relative}",
                         "field": "path"}, status_code=404)
    return Response(path.read_text(encoding="utf-8"), headers={
        "Content-Type": WEB_TYPES[extension], "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff"})


@route("/public/board", methods=["GET"])
def disclosure_board():
    """政务公开: recently completed cases (names masked), satisfaction by day, this month's
    department ranking and the four rates."""
    return bootstrap.performance().board()


# -- the service guide (public) ---------------------------------------------------------------
@route("/guide/items", methods=["GET"])
def search_items():
    request = app.current_request
    params = request.query_params or {}
    catalog = bootstrap.intake().catalog
    return catalog.search(keyword=params.get("q", ""), hall=params.get("hall"),
                          department=params.get("department"), category=params.get("category"),
                          page=query_int(request, "page", 1),
                          page_size=query_int(request, "page_size", 20))


@route("/guide/items/{code}", methods=["GET"])
def read_guide(code):
    guide = bootstrap.intake().catalog.guide(code)
    published = bootstrap.supervision().faqs.of_item(code)
    if published:
        guide = {**guide, "faqs": guide.get("faqs", []) + [
            {"question": f["q"], "answer": f["a"], "published_at": f["published_at"]}
            for f in published]}
    return guide


@route("/guide/halls", methods=["GET"])
def list_halls():
    return {"halls": list(bootstrap.intake().catalog.halls.values())}


@route("/guide/departments", methods=["GET"])
def list_departments():
    return {"departments": [public_department(d)
                            for d in bootstrap.intake().catalog.departments.values()]}


def public_department(department):
    windows = [{k: w[k] for k in ("code", "name", "hall")} for w in department["windows"]]
    return {"code": department["code"], "name": department["name"], "hall": department["hall"],
            "windows": windows, "power_list": department["power_list"]}


# -- citizens and companies (Cognito) ---------------------------------------------------------
@route("/cases", methods=["POST"], authorizer=citizen, body="CitizenApplication")
def create_case():
    return created(_create("citizen"))


@route("/cases", methods=["GET"], authorizer=citizen)
def my_cases():
    """The account's cases, the newest first, one page (limit, cursor). Before the real-name
    step an account has no cases: none is filed under no number."""
    request = app.current_request
    caller = caller_of(request, "citizen", verified=False)
    return paged(request, caller, lambda filters, page: bootstrap.intake().mine(caller, page))


@route("/me/real-name", methods=["POST"], authorizer=citizen, body="RealNameRequest")
def real_name():
    """实名认证: the name and identity number on the citizen's card, verified by the register
    and bound to this account alone; the account's token then carries the number."""
    from chalicelib.domain.errors import Conflict

    request = app.current_request
    if CITIZEN_SIGN_IN == "oidc":
        raise Conflict("the identity provider verifies identity numbers: complete its real-name "
                       "authentication and sign in again", field="id_number")
    return bootstrap.real_names().bind(caller_of(request, "citizen", verified=False),
                                       citizen_username(request), json_object(request))


@route("/cases/{case_id}", methods=["GET"], authorizer=citizen)
def read_case(case_id):
    return _read("citizen", case_id)


@route("/cases/{case_id}/uploads", methods=["POST"], authorizer=citizen, body="UploadRequest")
def request_upload(case_id):
    """An upload ticket for a material, or {"material", "certificate"} to attach an
    e-certificate issued earlier to the same applicant instead of uploading."""
    return created(_upload("citizen", case_id))


@route("/cases/{case_id}/submit", methods=["POST"], authorizer=citizen, body="Submission")
def submit_case(case_id):
    return _submit("citizen", case_id)


@route("/cases/{case_id}/corrections", methods=["POST"], authorizer=citizen,
       body="CorrectionsDone")
def submit_corrections(case_id):
    request = app.current_request
    body = json_object(request) if request.raw_body else {}
    return bootstrap.approval().correct(caller_of(request, "citizen"), case_id, body,
                                        idempotency_key(request))


@route("/cases/{case_id}/rating", methods=["POST"], authorizer=citizen, body="RatingRequest")
def rate_case(case_id):
    request = app.current_request
    return created(bootstrap.supervision().ratings.rate(caller_of(request, "citizen"), case_id,
                                                json_object(request)))


@route("/complaints", methods=["POST"], authorizer=citizen, body="ComplaintRequest")
def file_complaint():
    request = app.current_request
    return created(bootstrap.supervision().complaints.file(
        caller_of(request, "citizen"), json_object(request), idempotency_key(request)))


@route("/consultations", methods=["POST"], authorizer=citizen, body="ConsultationRequest")
def ask_question():
    request = app.current_request
    return created(bootstrap.supervision().hotline.ask(caller_of(request, "citizen"),
                                               json_object(request),
                                               idempotency_key(request)))


@route("/consultations/{task_id}", methods=["GET"], authorizer=citizen)
def read_my_question(task_id):
    return bootstrap.supervision().hotline.my_question(caller_of(app.current_request, "citizen"),
                                                task_id)


# -- 办件查询: anyone holding a receipt (public) -------------------------------------------------
@route("/lookup", methods=["POST"], body="ProgressLookupRequest")
def look_up_progress():
    """A case's status and stage for its 受理编号 and query code, without signing in; a wrong
    code answers as an unknown number, and wrong codes are counted (domain/progress.py)."""
    request = app.current_request
    body = json_object(request)
    source = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    return bootstrap.intake().lookup(body.get("case_no"), body.get("query_code"), source,
                                     bootstrap.lookup_attempts())


# -- anyone who visited a window (public) -----------------------------------------------------
@route("/visits/codes", methods=["POST"], body="VisitCodeRequest")
def request_visit_code():
    """A visitor without an account proves a mobile number first: a 6-digit code by text
    message, valid 10 minutes (one a minute, five a day per number)."""
    return created(bootstrap.supervision().complaints.send_visitor_code(json_object(app.current_request)))


@route("/visits/complaints", methods=["POST"], body="VisitComplaintRequest")
def file_visit_complaint():
    """A visitor without an account complains about a window visit with the phone and the code
    texted to it: nothing is kept and nobody is texted before the code holds."""
    from chalicelib.domain.cases import Caller

    return created(bootstrap.supervision().complaints.file(
        Caller("public", "visitor"), json_object(app.current_request),
        idempotency_key(app.current_request)))


# -- e-licences and sealed documents (public verification) ------------------------------------
@route("/certificates/{code}", methods=["GET"])
def verify_certificate(code):
    """An e-licence by its number: holder (a person masked), validity, status and its seal."""
    return bootstrap.documents().licence(code)


@route("/public/documents/{document_id}", methods=["GET"])
def verify_document(document_id):
    """Where a document's QR code leads: what it says (holder masked) and whether the file the
    case recorded still carries the hall's intact seal."""
    return bootstrap.documents().check(document_id)


@route("/public/documents/check", methods=["POST"], body="DocumentCheckRequest")
def check_document_file():
    """A PDF someone was handed, checked: the seal intact and the hall's, the very file the
    case's trail recorded, or the reason it is not."""
    return bootstrap.documents().check_file(json_object(app.current_request))


@route("/me/licences", methods=["GET"], authorizer=citizen)
def my_licences():
    """The applicant's e-licences, those in force first: what may stand for a material."""
    return bootstrap.documents().my_licences(caller_of(app.current_request, "citizen"))


@route("/cases/{case_id}/documents/{document_id}", methods=["GET"], authorizer=citizen)
def download_document(case_id, document_id):
    """One of the case's sealed documents: a download link valid five minutes."""
    return bootstrap.documents().download(caller_of(app.current_request, "citizen"), case_id,
                                          document_id)


# -- windows (walk-in registration) and village agent points (SigV4) --------------------------
@route("/department/cases", methods=["POST"], authorizer=signed, body="WalkInRegistration")
def register_walk_in():
    return created(_create("department"))


@route("/department/cases/{case_id}", methods=["GET"], authorizer=signed)
def department_reads_case(case_id):
    return _read("department", case_id)


@route("/department/cases/{case_id}/materials/{material_id}", methods=["GET"],
       authorizer=signed)
def department_views_material(case_id, material_id):
    """Opens a material of a case the department decides: a link valid five minutes, and the
    viewing recorded in the case's trail under the staff member who opened it."""
    return bootstrap.intake().view_material(caller_of(app.current_request, "department"),
                                            case_id, material_id)


@route("/department/cases/{case_id}/documents/{document_id}", methods=["GET"],
       authorizer=signed)
def department_downloads_document(case_id, document_id):
    """One of the sealed documents of a case the department may read (a five-minute link)."""
    return bootstrap.documents().download(caller_of(app.current_request, "department"),
                                          case_id, document_id)


@route("/department/licences/{number}/status", methods=["POST"], authorizer=signed,
       body="LicenceStatusChange")
def change_licence_status(number):
    """The issuing department marks its e-licence changed, revoked or expired, with reasons,
    recorded in the trail of the case that issued it."""
    request = app.current_request
    return bootstrap.documents().change_status(caller_of(request, "department"), number,
                                               json_object(request))


@route("/department/tasks", methods=["GET"], authorizer=signed)
def department_tasks():
    """The department's queue of open branches, the longest waiting first (limit, cursor)."""
    request = app.current_request
    caller = caller_of(request, "department")
    return paged(request, caller, lambda filters, page: bootstrap.approval().tasks(caller, page))


@route("/department/cases/{case_id}/branches/{branch_id}/decision", methods=["POST"],
       authorizer=signed, body="DecisionRequest")
def decide(case_id, branch_id):
    from urllib.parse import unquote

    request = app.current_request
    return bootstrap.approval().decide(caller_of(request, "department"), case_id,
                                       unquote(branch_id),
                                       json_object(request), idempotency_key(request))


@route("/department/cases/{case_id}/uploads", methods=["POST"], authorizer=signed,
       body="UploadRequest")
def department_upload(case_id):
    return created(_upload("department", case_id))


@route("/department/cases/{case_id}/submit", methods=["POST"], authorizer=signed,
       body="Submission")
def department_submit(case_id):
    return _submit("department", case_id)


@route("/department/supervised-tasks", methods=["GET"], authorizer=signed)
def department_supervised_tasks():
    """Orders, investigations, rectifications, 12345 requests and consultations to answer, the
    longest waiting first (limit, cursor)."""
    request = app.current_request
    caller = caller_of(request, "department")
    return paged(request, caller,
                 lambda filters, page: bootstrap.supervision().work.of_department(caller, page))


@route("/department/supervised-tasks/{task_id}/answer", methods=["POST"], authorizer=signed,
       body="TaskAnswerRequest")
def answer_supervised_task(task_id):
    request = app.current_request
    return bootstrap.supervision().work.answer(caller_of(request, "department"), task_id,
                                          json_object(request))


@route("/department/cases/{case_id}/rating/appeal", methods=["POST"], authorizer=signed,
       body="RatingAppealRequest")
def appeal_rating(case_id):
    request = app.current_request
    return bootstrap.supervision().ratings.appeal(caller_of(request, "department"), case_id,
                                          json_object(request))


@route("/department/cards", methods=["GET"], authorizer=signed)
def department_cards():
    """首席代表: the department's own lights, cards and violations, the newest first; filters:
    light, kind, since; limit, cursor."""
    request = app.current_request
    caller = caller_of(request, "department")
    return paged(request, caller, lambda filters, page:
                 bootstrap.supervision().violations.of_department(caller, filters, page))


# -- every signed-in staff member (identity-pool credentials) -------------------------------
@route("/staff/me", methods=["GET"], authorizer=signed)
def staff_me():
    """Who is signed in: name, department or office, hall, role and the rights it gives."""
    from chalicelib.service.staff import profile

    return profile(staff_of(app.current_request), bootstrap.catalog())


@route("/staff/me/archive", methods=["GET"], authorizer=signed)
def staff_own_archive():
    """The signed-in staff member's own efficiency archive (效能档案), month by month, the
    latest first (limit, cursor)."""
    request = app.current_request
    caller = staff_of(request)
    return paged(request, caller,
                 lambda filters, page: bootstrap.performance().own_archive(caller, page))


@route("/staff/me/archive/records", methods=["GET"], authorizer=signed)
def staff_own_records():
    """What is recorded about the signed-in staff member: the cards naming them (kind=cards) or
    the supervised work about them (kind=tasks), the newest first (limit, cursor)."""
    request = app.current_request
    caller = staff_of(request)
    return paged(request, caller, lambda filters, page:
                 bootstrap.performance().own_records(caller, filters, page))


# -- the 12345 hotline's system (SigV4) -------------------------------------------------------
@route("/hotline/requests", methods=["POST"], authorizer=signed, body="HotlineRequest")
def hotline_request():
    request = app.current_request
    return created(bootstrap.supervision().hotline.forward(caller_of(request, "hotline"),
                                                   json_object(request)))


@route("/agent/cases", methods=["POST"], authorizer=signed, body="AgentRegistration")
def register_for_applicant():
    return created(_create("agent"))


@route("/agent/cases/{case_id}", methods=["GET"], authorizer=signed)
def agent_reads_case(case_id):
    return _read("agent", case_id)


@route("/agent/cases/{case_id}/uploads", methods=["POST"], authorizer=signed, body="UploadRequest")
def agent_upload(case_id):
    return created(_upload("agent", case_id))


@route("/agent/cases/{case_id}/submit", methods=["POST"], authorizer=signed, body="Submission")
def agent_submit(case_id):
    return _submit("agent", case_id)


# -- auditors (SigV4, read-only) --------------------------------------------------------------
@route("/audit/cases/{case_id}/trail", methods=["GET"], authorizer=signed)
def audit_trail(case_id):
    """The case's trail and the verdict: its links, the head the case stores (a deleted tail is
    reported) and the latest anchor of its head outside the table (a rewrite is reported).
    `case_id` may also be the case's 受理编号; `case_id` in the answer is the case's id."""
    case_id = bootstrap.supervision().scope.check_case(caller_of(app.current_request, "auditor"),
                                                       case_id)
    verdict, records = bootstrap.trail_audit().verify(case_id)
    return {"case_id": case_id, "verdict": verdict.to_dict(),
            "records": [{"seq": r.seq, "at": r.at, "action": r.action, "actor": r.actor,
                         "data": r.data} for r in records]}


@route("/audit/cases/{case_id}/supervision", methods=["GET"], authorizer=signed)
def audit_supervision(case_id):
    case_id = bootstrap.supervision().scope.check_case(caller_of(app.current_request, "auditor"),
                                                       case_id)
    events = bootstrap.approval().supervision.of_case(case_id)
    return {"case_id": case_id,
            "events": [e for e in events if not e["kind"].startswith("violation:")],
            "violations": [e for e in events if e["kind"].startswith("violation:")]}


@route("/audit/cards", methods=["GET"], authorizer=signed)
def audit_cards():
    """Lights, cards and violations of the halls the office supervises, the newest first;
    filters: hall, department, light, kind, since (ISO instant); limit, cursor."""
    request = app.current_request
    caller = caller_of(request, "auditor")
    return paged(request, caller, lambda filters, page:
                 bootstrap.supervision().violations.cards(caller, filters, page))


@route("/audit/tasks", methods=["GET"], authorizer=signed)
def audit_tasks():
    """Supervised tasks of the office's halls, the newest opened first; filter: kind; limit,
    cursor."""
    request = app.current_request
    caller = caller_of(request, "auditor")
    return paged(request, caller, lambda filters, page:
                 bootstrap.supervision().work.for_supervisor(caller, filters, page))


@route("/audit/tasks/{task_id}", methods=["GET"], authorizer=signed)
def audit_task(task_id):
    return bootstrap.supervision().work.one_for_supervisor(
        caller_of(app.current_request, "auditor"), task_id)


@route("/audit/scores", methods=["GET"], authorizer=signed)
def audit_scores():
    """The four rates, indices, composite scores and rankings of a period (day 2026-11-21,
    month 2026-11, quarter 2026-Q4; this month by default) for the office's halls."""
    request = app.current_request
    return bootstrap.performance().for_supervisor(caller_of(request, "auditor"),
                                                  request.query_params or {})


@route("/audit/staff/{staff_id}/archive", methods=["GET"], authorizer=signed)
def audit_archive(staff_id):
    """A staff member's efficiency archive (效能档案), month by month, the latest first (limit,
    cursor)."""
    request = app.current_request
    caller = caller_of(request, "auditor")
    return paged(request, caller, lambda filters, page:
                 bootstrap.performance().archive(caller, staff_id, page))


@route("/audit/staff/{staff_id}/archive/records", methods=["GET"], authorizer=signed)
def audit_records(staff_id):
    """What is recorded about a staff member of the office's halls: the cards naming them
    (kind=cards) or the supervised work about them (kind=tasks), the newest first (limit,
    cursor)."""
    request = app.current_request
    caller = caller_of(request, "auditor")
    return paged(request, caller, lambda filters, page:
                 bootstrap.performance().records(caller, staff_id, filters, page))


@route("/audit/reports/{period}/{kind}", methods=["GET"], authorizer=signed)
def audit_report(period, kind):
    """The monthly report as CSV (the department ranking) or as a document with charts."""
    body, content_type = bootstrap.performance().report(
        caller_of(app.current_request, "auditor"), period, kind)
    return Response(body, headers={"Content-Type": content_type})


# -- supervisors act (SigV4) ------------------------------------------------------------------
@route("/supervision/orders", methods=["POST"], authorizer=signed, body="OrderRequest")
def issue_order():
    request = app.current_request
    return created(bootstrap.supervision().work.issue_order(caller_of(request, "auditor"),
                                                       json_object(request),
                                                       idempotency_key(request)))


@route("/supervision/clips", methods=["POST"], authorizer=signed, body="ClipRequest")
def pull_clip():
    request = app.current_request
    return created(bootstrap.supervision().complaints.pull_clip(caller_of(request, "auditor"),
                                                     json_object(request)))


@route("/supervision/tasks/{task_id}/evidence/{index}", methods=["GET"], authorizer=signed)
def view_evidence(task_id, index):
    """A short-lived link to a clip; the viewing is recorded in the task's trail."""
    from chalicelib.domain.errors import InvalidInput

    if not index.isdigit():
        raise InvalidInput("index is the clip's number, from 0", field="index")
    return bootstrap.supervision().complaints.view_evidence(caller_of(app.current_request, "auditor"),
                                                 task_id, int(index))


@route("/supervision/cases/{case_id}/rating/appeal", methods=["POST"], authorizer=signed,
       body="AppealDecisionRequest")
def decide_appeal(case_id):
    request = app.current_request
    return bootstrap.supervision().ratings.decide_appeal(caller_of(request, "auditor"), case_id,
                                                 json_object(request))


# -- events -----------------------------------------------------------------------------------
def _retry_soon(record) -> None:
    """A message that failed is received again after a short, growing pause (4 s, 8 s, 16 s …
    at most 2 minutes) instead of the queue's whole visibility timeout: a dependency down for
    a few seconds delays a light or a completion by seconds, not minutes; a poison message
    still reaches the dead-letter queue after the queue's maxReceiveCount receipts."""
    from chalicelib.adapters import aws

    try:
        count = int(record.attributes.approximate_receive_count or 1)
        _arn, partition, _sqs, region, account, name = record.event_source_arn.split(":")
        domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        aws.client("sqs").change_message_visibility(
            QueueUrl=f"https://sqs.{region}.{domain}/{account}/{name}",
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=min(2 ** (count + 1), 120))
    except Exception:  # noqa: BLE001 - then the queue's own visibility timeout applies
        logger.info("message left to the queue's visibility timeout",
                    extra={"message_id": record.message_id})


# A request's idempotency record expires with its invocation (chalicelib/adapters/idempotency.py):
# the Lambda context Chalice hands over with the request (locally, each gateway thread answers
# a request of its own).
bootstrap.lambda_context_from(
    lambda: getattr(getattr(app, "current_request", None), "lambda_context", None))


def _one_by_one(event, handle) -> dict:
    """A queue's batch message by message (Powertools' batch utility): a message that fails
    fails alone, its neighbours are processed, and the answer names the failed ones
    (`batchItemFailures`, the event source mapping's ReportBatchItemFailures) so that only they
    are received again and, after the queue's maxReceiveCount, go to its dead-letter queue."""
    from aws_lambda_powertools.utilities.batch import (BatchProcessor, EventType,
                                                       process_partial_response)

    def record_handler(record):
        try:
            return handle(record.body)
        except Exception:
            logger.exception("message failed", extra={
                "message_id": record.message_id, "receive_count":
                record.attributes.approximate_receive_count, "queue": record.event_source_arn})
            _retry_soon(record)
            raise
    return process_partial_response(event=event.to_dict(), record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS),
                                    context=event.context)


MATERIAL_UPLOADS_QUEUE = "approval-material-uploads"


@app.on_sqs_message(queue=MATERIAL_UPLOADS_QUEUE, batch_size=10)
def material_uploaded(event):
    """S3 tells us a material arrived; the case records it as received or rejected."""
    return _one_by_one(event, _material_notification)


def _material_notification(body: str) -> None:
    import json
    from urllib.parse import unquote_plus

    intake = bootstrap.intake()
    for record in json.loads(body).get("Records", []):
        key = unquote_plus(record["s3"]["object"]["key"])
        outcome = intake.material_arrived(key)
        logger.info("material notification", extra={"key": key, "outcome": outcome})


WORKFLOW_QUEUE = "approval-workflow"


@app.on_sqs_message(queue=WORKFLOW_QUEUE, batch_size=10)
def workflow_message(event):
    """What the case workflow reports: a task waits, a limit ran out, a stage is decided."""
    return _one_by_one(event, _workflow_message)


def _workflow_message(body: str) -> None:
    import json

    body = json.loads(body)
    if body.get("type") == "task_awaiting":
        outcome = bootstrap.supervision().work.on_task_message(body)
        logger.info("workflow message", extra={"type": body["type"], "outcome": outcome,
                                               "task_id": body.get("task_id")})
        return
    outcome = bootstrap.approval().on_workflow_message(body)
    logger.info("workflow message", extra={"type": body.get("type"), "outcome": outcome,
                                           "case_id": body.get("case_id"),
                                           "branch_id": body.get("branch_id")})


DEFAULT_RATINGS_QUEUE = "approval-default-ratings"
REPORT_EXPORTS_QUEUE = "approval-report-exports"
COUNTING_QUEUE = "approval-counting"


@app.schedule(Rate(1, unit=Rate.DAYS))
def default_ratings(event):
    """Completed cases left unrated past the hall's period count as 满意 (where it says so):
    the run only hands one message per hall to the default ratings' queue."""
    shares = bootstrap.supervision().ratings.default_rating_halls()
    bootstrap.queue("ratings").send(shares)
    logger.info("default ratings handed out", extra={"halls": len(shares)})


@app.on_sqs_message(queue=DEFAULT_RATINGS_QUEUE, batch_size=1)
def rate_by_default(event):
    """A hall's share becomes messages of at most 50 of its candidate cases; a batch's cases
    are rated by default, each at most once."""
    return _one_by_one(event, _default_rating_share)


def _default_rating_share(body: str) -> None:
    import json
    from datetime import datetime

    share = json.loads(body)
    ratings = bootstrap.supervision().ratings
    if "cases" in share:
        rated = ratings.rate_by_default(share["hall"], share["cases"])
        logger.info("default ratings", extra={"hall": share["hall"], "cases": len(rated),
                                              "batch": len(share["cases"])})
        return
    batches = ratings.default_rating_batches(share["hall"], datetime.fromisoformat(share["at"]))
    bootstrap.queue("ratings").send(batches)
    logger.info("default ratings batched", extra={"hall": share["hall"], "batches": len(batches)})


@app.schedule(Rate(1, unit=Rate.HOURS))
def export_reports(event):
    """Hands the hour's export to its queue, one message per share: the running month and
    quarter (and the month before on a new month's first run), and the public board's
    figures."""
    shares = bootstrap.performance().export_shares()
    bootstrap.queue("exports").send(shares)
    logger.info("exports handed out", extra={"shares": len(shares)})


@app.on_sqs_message(queue=REPORT_EXPORTS_QUEUE, batch_size=1)
def export_share(event):
    """One share of the export: a period's report documents, or the board's figures."""
    return _one_by_one(event, _export_share)


def _export_share(body: str) -> None:
    import json

    written = bootstrap.performance().export_share(json.loads(body))
    logger.info("report exported", extra={"keys": written})


@app.on_sqs_message(queue=COUNTING_QUEUE, batch_size=10)
def count_again(event):
    """Counting that failed where it happened, counted again: each message once."""
    return _one_by_one(event, _count_again)


def _count_again(body: str) -> None:
    import json

    message = json.loads(body)
    bootstrap.performance().count_again(message)
    logger.info("counted again", extra={"event": message.get("event"),
                                        "items": len(message.get("increments") or [])})


@app.schedule(Cron(15, "*", "*", "*", "?", "*"))
def anchor_trails(event):
    """Hourly, a quarter past: the heads of every trail that changed in the hour before are
    anchored in the evidence bucket (Object Lock), each hour's anchor chained to the one before
    (chalicelib/domain/anchors.py); hours missed are caught up."""
    written = bootstrap.anchoring().run()
    logger.info("anchoring done", extra={"periods": written})


@app.schedule(Rate(1, unit=Rate.MINUTES))
def hand_over_cases(event):
    """Every minute: what a change committed for the workflow (a submitted case's start, an
    answer for a waiting task) and a fault left undone is carried out (the outbox's sweeper)."""
    swept = bootstrap.approval().sweep()
    logger.info("hand-overs swept", extra=swept)
    logger.info("task starts swept", extra=bootstrap.supervision().work.sweep_starts())


# -- the API's own description ----------------------------------------------------------------
@route("/openapi.json", methods=["GET"])
def openapi():
    from chalicelib import openapi as document

    return document.load()


def _create(role):
    request = app.current_request
    return bootstrap.intake().create(caller_of(request, role), json_object(request),
                                     idempotency_key(request))


def _read(role, case_id):
    request = app.current_request
    found = bootstrap.intake().read(caller_of(request, role), case_id)
    progress = bootstrap.approval().progress(case_id)
    if role == "citizen":
        progress.pop("violations")    # the staff's conduct is the supervision office's matter
    return {**found, **progress}


def _upload(role, case_id):
    request = app.current_request
    return bootstrap.intake().request_upload(caller_of(request, role), case_id,
                                             json_object(request))


def _submit(role, case_id):
    request = app.current_request
    body = json_object(request) if request.raw_body else {}
    result = bootstrap.intake().submit(caller_of(request, role), case_id, body,
                                       idempotency_key(request))
    logger.info("case submitted", extra={"case_no": result["case_no"], "case_id": case_id,
                                         "channel": result["channel"]})
    return result


def created(body):
    return Response(body, status_code=201)
