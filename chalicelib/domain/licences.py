"""E-licences (电子证照): what a granted case issues, who holds it, how long it is valid, its
status and who may change it, and which materials an earlier licence may stand for.

- The **holder** is the subject of the licence, not the person who filed: for company setup
  the new company, named by the form's company name and a unified social credit code (统一社会
  信用代码, GB 32100-2015) made here with both its check characters; for a person's item the
  person. A licence issued on a company's own application is held by that company.
- The **status** is valid (有效), changed (已变更: still in force, with the change recorded),
  revoked (已撤销) or expired (已过期). Only the issuing department changes it, always with
  reasons; a revoked licence stays revoked. A licence past its valid_until reads as expired
  whatever was stored.
- **Reuse** is typed: a material names the licence kinds that satisfy it (`licence_kinds` in the
  catalog); a licence of another kind, one not in force (revoked, expired) or someone else's is
  refused."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from .errors import Conflict, Forbidden, InvalidInput, Unprocessable
from .masking import mask_id_number

VALID, CHANGED, REVOKED, EXPIRED = "valid", "changed", "revoked", "expired"
STATUSES = (VALID, CHANGED, REVOKED, EXPIRED)
STATUS_NAMES = {VALID: "有效", CHANGED: "已变更", REVOKED: "已撤销", EXPIRED: "已过期"}
IN_FORCE = (VALID, CHANGED)
# What the issuing department may set, from what.
TRANSITIONS = {VALID: {CHANGED, REVOKED, EXPIRED}, CHANGED: {CHANGED, REVOKED, EXPIRED},
               REVOKED: set(), EXPIRED: {REVOKED}}

# The kinds this system issues, by item: the licence's name on the document, whether a company
# holds it (the one the form creates or names) and how many years it is valid (None: no limit).
KINDS = {
    "business_licence": {"name": "营业执照", "holder": "company", "years": None},
    "individual_business_licence": {"name": "个体工商户营业执照", "holder": "company",
                                    "years": None},
    "food_business_licence": {"name": "食品经营许可证", "holder": "company", "years": 5},
    "drug_retail_licence": {"name": "药品经营许可证", "holder": "company", "years": 5},
    "planning_permit": {"name": "建设工程规划许可证", "holder": "company", "years": None},
    "construction_permit": {"name": "建筑工程施工许可证", "holder": "company", "years": None},
    "property_certificate": {"name": "不动产权证书", "holder": "person", "years": None},
    "marriage_certificate": {"name": "结婚证", "holder": "person", "years": None},
    "no_criminal_record": {"name": "无犯罪记录证明", "holder": "person", "years": None},
    "medical_institution_licence": {"name": "医疗机构执业许可证", "holder": "company", "years": 5},
    "public_place_hygiene_licence": {"name": "公共场所卫生许可证", "holder": "company", "years": 4},
    "road_freight_licence": {"name": "道路运输经营许可证", "holder": "company", "years": 4},
    "taxi_driver_qualification": {"name": "出租汽车驾驶员从业资格证", "holder": "person",
                                  "years": 6},
    "result": {"name": "办理结果证明", "holder": "person", "years": None},
}
ISSUED_BY_ITEM = {
    "SCJG-001": "business_licence", "SCJG-002": "individual_business_licence",
    "SCJG-003": "food_business_licence", "SCJG-004": "drug_retail_licence",
    "ZRZY-002": "planning_permit", "ZJ-001": "construction_permit",
    "ZRZY-003": "property_certificate", "MZ-001": "marriage_certificate",
    "GA-003": "no_criminal_record", "WJW-001": "medical_institution_licence",
    "WJW-002": "public_place_hygiene_licence", "JTJ-001": "road_freight_licence",
    "JTJ-002": "taxi_driver_qualification",
}
# The administrative division (GB/T 2260) each hall's registrations are numbered in.
DIVISIONS = {"BZ": "341600", "BZQC": "341602"}

# -- the unified social credit code (GB 32100-2015) --------------------------------------------
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"          # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)                  # GB 11714, the organisation code


def org_code_check(body: str) -> str:
    """The ninth character of an organisation code (GB 11714) from its first eight."""
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_WEIGHTS))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def uscc_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    if not isinstance(code, str) or len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    org = code[8:17]
    return uscc_check(code[:17]) == code[17] and org_code_check(org[:8]) == org[8]


def make_uscc(company_name: str, seed: str, hall: str, individual: bool = False) -> str:
    """A code for a company registered in `hall`: 9 (market regulation) and 1 (enterprise) or 2
    (individual business), the hall's division, an organisation code drawn from the name and
    `seed` (the case) with its check character, then the code's own check character."""
    division = DIVISIONS.get(hall) or DIVISIONS.get(hall[:4]) or DIVISIONS["BZ"]
    digest = int(hashlib.sha256(f"{company_name}|{seed}".encode()).hexdigest(), 16)
    body = f"{digest % 10 ** 8:08d}"
    first17 = ("92" if individual else "91") + division + body + org_code_check(body)
    return first17 + uscc_check(first17)


# -- holders, validity, status ------------------------------------------------------------------
def kind_of_item(item_code: str) -> str:
    return ISSUED_BY_ITEM.get(item_code, "result")


def holder_of(kind: str, item_code: str, applicant: dict, form: dict, case_id: str,
              hall: str) -> dict:
    """The subject of the licence: the company the application creates or names, or the person."""
    spec = KINDS[kind]
    name = (form or {}).get("company_name") or (form or {}).get("business_name") \
        or (form or {}).get("organisation_name") or (form or {}).get("unit_name")
    if spec["holder"] == "company" and applicant.get("kind") == "company":
        return {"kind": "company", "name": applicant.get("name", ""),
                "credit_code": applicant["id_number"]}
    if spec["holder"] == "company" and isinstance(name, str) and name:
        return {"kind": "company", "name": name,
                "credit_code": make_uscc(name, case_id, hall,
                                         individual=kind == "individual_business_licence"),
                "legal_representative": applicant.get("name", "")}
    return {"kind": "person", "name": applicant.get("name", ""),
            "id_number": applicant.get("id_number", "")}


def valid_until(kind: str, valid_from: date) -> str | None:
    years = KINDS[kind]["years"]
    if not years:
        return None
    try:
        return valid_from.replace(year=valid_from.year + years).isoformat()
    except ValueError:                                       # 29 February
        return valid_from.replace(year=valid_from.year + years, day=28).isoformat()


def status_on(licence: dict, today: date) -> str:
    """The stored status, or expired once past valid_until (a revoked one stays revoked)."""
    status = licence.get("status", VALID)
    until = licence.get("valid_until")
    if status in IN_FORCE and until and today.isoformat() > until:
        return EXPIRED
    return status


def change_status(licence: dict, body: dict, department: str, actor: str,
                  at: datetime) -> dict:
    """The issuing department sets a new status with its reasons; the change is appended to the
    licence's history. Returns the change (for the trail)."""
    if not isinstance(body, dict):
        raise InvalidInput("请求内容须为 JSON 对象", field="body")
    new = body.get("status")
    if new not in STATUSES or new == VALID:
        raise InvalidInput("status 须为 changed（变更）、revoked（撤销）或 expired（注销过期）之一", field="status")
    reasons = body.get("reasons")
    if not isinstance(reasons, list) or not reasons \
            or not all(isinstance(r, str) and r.strip() and len(r) <= 500 for r in reasons) \
            or len(reasons) > 20:
        raise InvalidInput("reasons 须列出 1 至 20 条理由，每条不超过 500 字", field="reasons")
    if licence["department"] != department:
        raise Forbidden(f"电子证照 {licence['number']} 由 {licence['department']} 颁发，"
                        "只有发证部门可以变更其状态", field="number")
    current = status_on(licence, at.date())
    if new not in TRANSITIONS[current]:
        raise Conflict(f"电子证照 {licence['number']} 当前为{STATUS_NAMES[current]}（{current}），"
                       f"不能再变为 {new}", field="status")
    change = {"from": current, "to": new, "reasons": [r.strip() for r in reasons],
              "by": actor, "at": at.isoformat()}
    if new == CHANGED:
        changes = body.get("changes")
        if not isinstance(changes, dict) or not changes or len(changes) > 20 or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 200
                for k, v in changes.items()):
            raise InvalidInput("变更须写明变更内容：changes 为不超过 20 项的文字对象"
                               "（如 {\"address\": \"新住所\"}）", field="changes")
        change["changes"] = changes
        licence.setdefault("changes", {}).update(changes)
    licence["status"] = new
    licence.setdefault("history", []).append(change)
    return change


def is_own(licence: dict, id_number: str | None) -> bool:
    """An applicant's own licence: held by them, or issued on their application."""
    if not id_number:
        return False
    holder = licence.get("holder") or {}
    return id_number in (holder.get("id_number"), holder.get("credit_code"),
                         licence.get("applicant_id_number"))


def check_reusable(licence: dict, material: dict, id_number: str | None, today: date) -> None:
    """A licence may stand for `material` only if the material names its kind, it is the
    applicant's own, and it is in force."""
    kinds = material.get("licence_kinds") or []
    if not kinds:
        raise Unprocessable(f"材料“{material['name']}”（{material['id']}）不能用电子证照代替，"
                            "请上传文件", field="material")
    if not is_own(licence, id_number):
        raise Forbidden("该电子证照不属于申请人本人", field="certificate")
    if licence.get("kind") not in kinds:
        names = "、".join(KINDS[k]["name"] for k in kinds if k in KINDS)
        raise Unprocessable(f"电子证照 {licence['number']} 是{licence.get('kind_name')}，"
                            f"材料“{material['name']}”只接受{names}", field="certificate")
    status = status_on(licence, today)
    if status not in IN_FORCE:
        raise Conflict(f"电子证照 {licence['number']} {STATUS_NAMES[status]}（{status}），"
                       "不能再代替申请材料", field="certificate")


def public_view(licence: dict, today: date) -> dict:
    """What anyone checking the licence sees: the holder masked as appropriate (a company's
    name and credit code are public, a person's are not), validity and status."""
    holder = dict(licence.get("holder") or {})
    if holder.get("kind") == "person":
        name = holder.get("name") or ""
        holder["name"] = name[:1] + "*" * (len(name) - 1)
        holder["id_number"] = mask_id_number(holder.get("id_number") or "")
    elif holder.get("legal_representative"):
        name = holder["legal_representative"]
        holder["legal_representative"] = name[:1] + "*" * (len(name) - 1)
    status = status_on(licence, today)
    return {"number": licence["number"], "code": licence["number"], "kind": licence.get("kind"),
            "kind_name": licence.get("kind_name"), "holder": holder,
            "item_code": licence.get("item_code"), "item_name": licence.get("item_name"),
            "case_no": licence.get("case_no"), "department": licence.get("department"),
            "department_name": licence.get("department_name"), "hall": licence.get("hall"),
            "issued_at": licence.get("issued_at"), "valid_from": licence.get("valid_from"),
            "valid_until": licence.get("valid_until"), "status": status,
            "status_name": STATUS_NAMES[status], "valid": status in IN_FORCE,
            "changes": licence.get("changes") or {},
            "history": [{k: v for k, v in h.items() if k != "by"}
                        for h in licence.get("history", [])],
            "document": licence.get("document")}


def issue(number: str, item: dict, case: dict, department: dict, at: datetime,
          departments: list[str]) -> dict:
    """The licence a granted case issues: its kind from the item, its holder, the issuing
    department (the item's lead), valid from the day of issue (China time)."""
    from .cases import CHINA_TIME

    kind = kind_of_item(item["code"])
    today = at.astimezone(CHINA_TIME).date()
    name = KINDS[kind]["name"] if kind != "result" else f"{item['name']}（办理结果）"
    return {"number": number, "code": number, "kind": kind, "kind_name": name,
            "holder": holder_of(kind, item["code"], case["applicant"], case.get("form") or {},
                                case["case_id"], case["hall"]),
            "applicant_id_number": case["applicant"].get("id_number"),
            "case_id": case["case_id"], "case_no": case["case_no"], "item_code": item["code"],
            "item_name": item["name"], "department": department["code"],
            "department_name": department["name"], "hall": case["hall"],
            "departments": departments, "issued_at": at.isoformat(),
            "valid_from": today.isoformat(), "valid_until": valid_until(kind, today),
            "status": VALID, "history": []}


def normalised(licence: dict) -> dict:
    """An e-certificate stored before licences had holders and kinds reads as a licence."""
    if isinstance(licence.get("holder"), dict):
        return licence
    return {**licence, "number": licence.get("number") or licence["code"], "kind": "result",
            "kind_name": KINDS["result"]["name"],
            "holder": {"kind": "person", "name": licence.get("holder") or "",
                       "id_number": licence.get("holder_id_number") or ""},
            "applicant_id_number": licence.get("holder_id_number"),
            "department": (licence.get("departments") or [None])[0],
            "valid_from": (licence.get("issued_at") or "")[:10], "valid_until": None,
            "status": licence.get("status", VALID)}
