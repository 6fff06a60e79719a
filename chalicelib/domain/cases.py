"""An application (申报) and the case it becomes once submitted. Plain rules, no I/O: who may
see and act on a case, what a valid form and a complete set of materials are, and how a case
number reads."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from . import parties
from .errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound, Unprocessable
from .trail import GENESIS

# China keeps one time zone and no daylight saving, so a fixed offset is exact.
CHINA_TIME = timezone(timedelta(hours=8), "CST")

ONLINE, WINDOW, AGENT = "online", "window", "agent"   # how the application reached us
DRAFT, SUBMITTED = "draft", "submitted"
CORRECTION, ACCEPTED, REFUSED, COMPLETED = "correction_requested", "accepted", "refused", "completed"
DELIVERY_METHODS = ("pickup", "express")

ID_NUMBER = re.compile(r"^\d{17}[\dX]$")                                   # 居民身份证号码
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")  # 统一社会信用代码
MOBILE = re.compile(r"^1[3-9]\d{9}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

if TYPE_CHECKING:
    from .catalog import Staff


@dataclass(frozen=True)
class Caller:
    """A verified caller: the gateway has checked the token or the signature before us. A staff
    member signs in as themself (`staff`, their directory record: the actor is the person); a
    system signs with its long-lived key as a named system account (`account`)."""
    role: str                      # citizen | department | agent | auditor | hotline | public
    principal: str                 # citizen's account id, department code, agent point code…
    id_number: str | None = None   # a citizen's identity number or a company's credit code
    name: str | None = None
    phone: str | None = None
    staff: "Staff | None" = None   # the signed-in staff member (chalicelib/domain/rights.py)
    account: str | None = None     # a system account's name (a department's own system)
    system_role: str | None = None  # what that system (or the hotline's) may do

    @property
    def actor(self) -> str:
        if self.staff is not None:
            return f"staff:{self.staff.staff_id}"
        if self.account:
            return f"system:{self.account}"
        return f"{self.role}:{self.principal}"

    @property
    def grant_role(self) -> str | None:
        """The role whose rights the caller holds (chalicelib/domain/rights.py)."""
        return self.staff.role if self.staff is not None else self.system_role

    @classmethod
    def of_staff(cls, staff: "Staff") -> "Caller":
        """A signed-in staff member, acting for their department, agent point or office."""
        from .rights import KIND

        kind = KIND[staff.role]
        principal = {"department": staff.department, "agent": staff.agent_point,
                     "auditor": staff.office}[kind]
        return cls(kind, principal, name=staff.name, staff=staff)


@dataclass
class Case:
    case_id: str
    item_code: str
    hall: str
    channel: str
    applicant: dict
    form: dict
    created_at: str
    created_by: str
    registered_by: dict = field(default_factory=dict)
    status: str = DRAFT
    materials: dict = field(default_factory=dict)
    case_no: str | None = None
    submitted_at: str | None = None
    delivery: dict | None = None
    stage: int = 0                       # the workflow's current stage (0 = acceptance)
    accepted_at: str | None = None
    correction: dict | None = None       # the open correction notice (一次性告知), if any
    result: dict | None = None           # the decision once completed (办结)
    completed_at: str | None = None
    rating: dict | None = None           # 好差评, once; again only after a rectification
    stage_answers: dict = field(default_factory=dict)   # what the workflow was told per stage
    # Hand-overs to the workflow committed with a change and not yet carried out (the outbox):
    # "start" → submitted at; "deliver:<branch id>" → the `since` of the task to tell.
    handovers: dict = field(default_factory=dict)
    submit_key: str | None = None        # the Idempotency-Key the case was submitted with
    # Its sealed documents by key (acceptance, correction:<at>, refusal, grant, denial,
    # licence): id, kind, title, 文号, SHA-256, issued at (chalicelib/domain/documents.py).
    documents: dict = field(default_factory=dict)
    query_code: str | None = None        # 查询码 of the public progress lookup (progress.py)
    # The other parties of an item applied for together (domain/parties.py): name, id_number.
    co_applicants: list = field(default_factory=list)
    trail_seq: int = 0
    trail_hash: str = GENESIS

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        return cls(**data)

    def view(self) -> dict:
        """What the applicant and the handling staff see (bookkeeping left out)."""
        out = self.to_dict()
        # The query code is the applicant's (and the registering window's) to hand out.
        for internal in ("trail_hash", "trail_seq", "stage_answers", "handovers", "submit_key",
                         "query_code"):
            out.pop(internal)
        out["co_applicants"] = parties.shown(self.co_applicants)   # masked for every reader
        return out

    def is_applicant(self, id_number: str | None) -> bool:
        """The applicant, or one of the other parties the application names."""
        return bool(id_number) and (self.applicant.get("id_number") == id_number
                                    or parties.is_party(self.co_applicants, id_number))


# -- who may see and act ---------------------------------------------------------------------
def may_act(caller: Caller, case: Case) -> bool:
    """Acting on a draft (uploading, submitting) belongs to whoever registered it."""
    if caller.role == "citizen":
        return case.channel == ONLINE and case.applicant.get("id_number") == caller.id_number
    if caller.role == "department":
        return case.registered_by.get("department") == caller.principal
    if caller.role == "agent":
        return case.registered_by.get("agent_point") == caller.principal
    return False


def may_read(caller: Caller, case: Case, deciders: set[str], lead: str,
             halls: set[str] | None = None) -> bool:
    """`halls`: where a department's caller serves (a staff member: their hall and the halls
    below it)."""
    if caller.role == "citizen":
        # The applicant sees every case filed in their name, whoever filed it for them, and
        # so does every other party an application names.
        return case.is_applicant(caller.id_number)
    if caller.role == "department":
        if may_act(caller, case):             # their own walk-in, from its first draft
            return True
        # Anyone else's application is the applicant's own until it is submitted, and a
        # department reads it only where it serves it.
        if case.status == DRAFT or (halls is not None and case.hall not in halls):
            return False
        return caller.principal == lead or caller.principal in deciders
    if caller.role == "agent":
        return may_act(caller, case)
    return caller.role == "auditor"


def check_can_act(caller: Caller, case: Case) -> None:
    if caller.role == "citizen":
        if not case.is_applicant(caller.id_number):
            raise NotFound(f"no case {case.case_id} in your account", field="case_id")
        if case.applicant.get("id_number") != caller.id_number:
            raise Forbidden(f"case {case.case_id} was filed by its applicant, who alone can "
                            "change it; you read it as a co-applicant", field="case_id")
        if not may_act(caller, case):
            raise Forbidden(f"case {case.case_id} was registered for you at a "
                            f"{case.channel} counter; only that counter can change it",
                            field="case_id")
    elif not may_act(caller, case):
        owner = case.registered_by.get("department") or case.registered_by.get("agent_point") \
            or "the applicant online"
        raise Forbidden(f"case {case.case_id} belongs to {owner}, not to {caller.principal}",
                        field="case_id")


# -- applicant ---------------------------------------------------------------------------------
def parse_applicant(data: object, field_name: str = "applicant") -> dict:
    """The person or company a counter applies for; checked like the real-name register would."""
    if not isinstance(data, dict):
        raise InvalidInput("applicant must be an object with name, id_number and phone",
                           field=field_name)
    problems = []
    name = data.get("name")
    id_number = data.get("id_number")
    phone = data.get("phone")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        problems.append(FieldProblem(f"{field_name}.name", "required, 1 to 100 characters"))
    if not isinstance(id_number, str) or not (ID_NUMBER.match(id_number)
                                              or CREDIT_CODE.match(id_number)):
        problems.append(FieldProblem(f"{field_name}.id_number",
                                     "must be an 18-character identity number or unified "
                                     "social credit code"))
    if not isinstance(phone, str) or not MOBILE.match(phone):
        problems.append(FieldProblem(f"{field_name}.phone", "must be an 11-digit mobile number"))
    if problems:
        raise InvalidInput("the applicant is not valid", field=field_name, problems=problems)
    kind = "person" if ID_NUMBER.match(id_number) else "company"
    return {"name": name.strip(), "id_number": id_number, "phone": phone, "kind": kind}


# -- the form ---------------------------------------------------------------------------------
_validators: dict[str, object] = {}


# A refusal of a form lists at most this many problems, each reason at most this long, quoting
# at most a short excerpt of a value: whatever was sent, the answer stays small.
MAX_FORM_PROBLEMS = 20
MAX_REASON = 200
EXCERPT = 80


def form_problems(item: dict, form: object) -> list[FieldProblem]:
    """Every way the form breaks the item's JSON Schema, one problem per field (bounded: see
    check_form)."""
    validator = _validators.get(item["code"])
    if validator is None:
        import jsonschema  # deferred: the schema engine is only needed when a form arrives

        validator = jsonschema.Draft202012Validator(
            item["form"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        _validators[item["code"]] = validator
    problems = []
    properties = item["form"].get("properties", {})
    for error in sorted(validator.iter_errors(form), key=lambda e: list(e.path)):
        path = _form_path(error.path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    field_path = f"{path}.{name}" if path else name
                    problems.append(FieldProblem(f"form.{field_path}", "is required",
                                                 properties.get(name, {}).get("title")))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    field_path = _form_path([*error.path, name])
                    problems.append(FieldProblem(f"form.{field_path}",
                                                 "is not a field of this item's form"))
        elif error.validator == "not" and error.validator_value == {}:
            # A field the form's other answers rule out (a sole proprietorship's registered
            # capital): the schema says so with `"not": {}` on that field.
            name = str(error.path[-1]) if error.path else ""
            problems.append(FieldProblem(f"form.{path}" if path else "form",
                                         "does not apply to this application's other answers",
                                         properties.get(name, {}).get("title")))
        else:
            problems.append(FieldProblem(f"form.{path}" if path else "form",
                                         _bounded_reason(error.message, error.instance),
                                         error.schema.get("title")))
    return problems


def _form_path(parts) -> str:
    named = [str(p) if len(str(p)) <= 40 else str(p)[:40] + "…" for p in parts]
    path = ".".join(named)
    return path if len(path) <= 120 else path[:120] + "…"


def _bounded_reason(message: str, instance: object) -> str:
    """The schema engine's reason, which quotes the whole value, quoting an excerpt of it."""
    shown = repr(instance)
    if len(shown) > EXCERPT and shown in message:
        if isinstance(instance, dict):
            brief = f"an object of {len(instance)} fields"
        elif isinstance(instance, list):
            brief = f"an array of {len(instance)} items"
        else:
            brief = shown[:EXCERPT] + "…"
        message = message.replace(shown, brief)
    return message if len(message) <= MAX_REASON else message[:MAX_REASON] + "…"


def check_form(item: dict, form: object) -> None:
    """422 naming `form` and listing its problems, at most MAX_FORM_PROBLEMS of them."""
    problems = form_problems(item, form)
    if problems:
        more = len(problems) - MAX_FORM_PROBLEMS
        raise Unprocessable(f"the form does not match the guide of item {item['code']}"
                            + (f" ({len(problems)} problems, the first {MAX_FORM_PROBLEMS} listed)"
                               if more > 0 else ""),
                            field="form", problems=problems[:MAX_FORM_PROBLEMS])


# -- materials --------------------------------------------------------------------------------
def material_spec(item: dict, material_id: object) -> dict:
    for spec in item["materials"]:
        if spec["id"] == material_id:
            return spec
    raise Unprocessable(f"item {item['code']} asks for no material {material_id!r}; it asks for "
                        + ", ".join(m["id"] for m in item["materials"]), field="material")


def check_upload(item: dict, body: dict) -> dict:
    """An upload the applicant announces: which material, what type, how big, which checksum.
    S3 is then told to accept exactly that file and nothing else."""
    spec = material_spec(item, body.get("material"))
    filename, content_type = body.get("filename"), body.get("content_type")
    size, sha256 = body.get("size"), body.get("sha256")
    if not isinstance(filename, str) or not 1 <= len(filename) <= 200 \
            or "/" in filename or "\\" in filename:
        raise InvalidInput("filename must be a plain file name of 1 to 200 characters",
                           field="filename")
    if content_type not in spec["content_types"]:
        raise Unprocessable(f"{spec['name']} must be one of {', '.join(spec['content_types'])}, "
                            f"not {content_type!r}", field="content_type")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InvalidInput("size must be the file's length in bytes, at least 1", field="size")
    if size > spec["max_bytes"]:
        raise Unprocessable(f"{spec['name']} may be at most {spec['max_bytes']} bytes; "
                            f"this file has {size}", field="size")
    if not isinstance(sha256, str) or not SHA256_HEX.match(sha256):
        raise InvalidInput("sha256 must be the file's SHA-256 as 64 lowercase hex digits",
                           field="sha256")
    return {"material": spec["id"], "name": spec["name"], "filename": filename,
            "content_type": content_type, "size": size, "sha256": sha256}


def upload_mismatch(declared: dict, observed: dict | None) -> str | None:
    """Why a stored object is not the file that was announced, or None when it is."""
    if observed is None:
        return "was not uploaded"
    if observed["size"] != declared["size"]:
        return f"was announced as {declared['size']} bytes but {observed['size']} arrived"
    if observed["content_type"] != declared["content_type"]:
        return (f"was announced as {declared['content_type']} but "
                f"{observed['content_type']} arrived")
    if observed.get("sha256") and observed["sha256"] != declared["sha256"]:
        return "does not match the announced SHA-256 checksum"
    return None


def missing_materials(item: dict, case: Case) -> list[FieldProblem]:
    return [FieldProblem(f"materials.{spec['id']}", "required material is missing", spec["name"])
            for spec in item["materials"]
            if spec["required"] and case.materials.get(spec["id"], {}).get("status") != "received"]


# -- submission -------------------------------------------------------------------------------
def parse_delivery(item: dict, data: object) -> dict:
    """How the applicant receives the result: pick-up at the window or express to an address."""
    if data is None:
        return {"method": "pickup"}
    if not isinstance(data, dict) or data.get("method") not in DELIVERY_METHODS:
        raise InvalidInput("delivery.method must be 'pickup' or 'express'", field="delivery.method")
    if data["method"] not in item.get("delivery", DELIVERY_METHODS):
        raise Unprocessable(f"item {item['code']} cannot be delivered by {data['method']}",
                            field="delivery.method")
    if data["method"] == "express":
        address = data.get("address")
        if not isinstance(address, str) or not 5 <= len(address.strip()) <= 200:
            raise InvalidInput("express delivery needs a postal address of 5 to 200 characters",
                               field="delivery.address")
        return {"method": "express", "address": address.strip()}
    return {"method": "pickup"}


def check_uploadable(case: Case, material_id: str) -> None:
    """Materials are uploaded to a draft, or after submission only those a correction notice
    asks for."""
    if case.status == DRAFT:
        return
    if case.status == CORRECTION and material_id in case.correction["materials"]:
        return
    if case.status == CORRECTION:
        raise Conflict(f"the correction notice of case {case.case_no} asks for "
                       f"{', '.join(case.correction['materials'])}, not {material_id}",
                       field="material")
    raise Conflict(f"case {case.case_id} was already submitted as {case.case_no}",
                   field="case_id")


def check_submittable(case: Case) -> None:
    if case.status != DRAFT:
        raise Conflict(f"case {case.case_id} was already submitted as {case.case_no}",
                       field="case_id")


def case_number(hall: str, at: datetime, sequence: int) -> str:
    """受理编号: hall, the day in China time, and the hall's running number for that day."""
    return f"{hall}-{at.astimezone(CHINA_TIME):%Y%m%d}-{sequence:05d}"


def is_case_number(text) -> bool:
    """Whether `text` is written as a 受理编号 (hall-YYYYMMDD-NNNNN), the number applicants see."""
    return isinstance(text, str) and re.fullmatch(r"[A-Z]{2,12}-\d{8}-\d{5}", text) is not None


def sequence_name(hall: str, at: datetime) -> str:
    return f"case-no#{hall}#{at.astimezone(CHINA_TIME):%Y%m%d}"


def queue_summary(case: Case) -> dict:
    """What a department's queue shows of a branch's case, kept with the branch when it is
    written, so that the queue is one query of open branches and no case is read per line."""
    return {"case_no": case.case_no, "item_code": case.item_code, "hall": case.hall,
            "applicant": case.applicant.get("name"), "status": case.status}
