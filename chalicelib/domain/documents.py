"""Official documents (文书): what each says, when a case calls for it, and its identity.

A case's documents, each produced once when its event happens (the key names the event, so a
redelivered message produces nothing twice):

| key | document | when |
|---|---|---|
| `acceptance` | 受理通知书 | the accepting window accepted the case |
| `correction:<requested at>#<n>` | 补正材料通知书 | a correction notice was issued (一次性告知), or a department joined it |
| `refusal` | 不予受理决定书 | the accepting window refused it |
| `grant` | 准予行政许可决定书 | the case was granted |
| `denial` | 不予行政许可决定书 | the case was denied (reasons, 行政复议 60 日, 行政诉讼 6 个月) |
| `licence` | the e-licence itself (电子证照) | with the grant |

Each names the hall (header), the case number, the legal basis of the item, the department and
staff member who acted and the date, and carries its verification address (a QR code). The PDF
and its seal are made at the edge (adapters/pdf.py, adapters/seal.py); this module is plain
data."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from .cases import CHINA_TIME

ACCEPTANCE, CORRECTION, REFUSAL, GRANT, DENIAL, LICENCE = (
    "acceptance", "correction", "refusal", "grant", "denial", "licence")
TITLES = {ACCEPTANCE: "受理通知书", CORRECTION: "补正材料通知书", REFUSAL: "不予受理决定书",
          GRANT: "准予行政许可决定书", DENIAL: "不予行政许可决定书"}
# The seal's number suffix per kind (文号: 〔年〕受理编号-字).
SUFFIX = {ACCEPTANCE: "受", CORRECTION: "补", REFUSAL: "不受", GRANT: "准", DENIAL: "不准",
          LICENCE: "证"}
RIGHTS = ("如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
          "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。")


@dataclass
class Document:
    key: str                    # acceptance, correction:<at>, refusal, grant, denial, licence
    kind: str
    document_id: str
    title: str
    hall_name: str
    number: str                 # 文号
    case_id: str
    case_no: str
    addressee: str
    paragraphs: list[str]
    legal_basis: list[str]
    department_name: str
    staff_name: str
    issued_at: str              # ISO instant
    verify_path: str            # the public verification page, without the site's origin
    rows: list[tuple[str, str]] = field(default_factory=list)   # a licence's fields

    @property
    def date(self) -> str:
        return china_date(self.issued_at)

    def summary(self) -> dict:
        """What the verification page shows of the document (the holder masked by the caller)."""
        return {"document_id": self.document_id, "key": self.key, "kind": self.kind,
                "title": self.title, "number": self.number, "case_no": self.case_no,
                "hall_name": self.hall_name, "department_name": self.department_name,
                "staff_name": self.staff_name, "issued_at": self.issued_at}


def china_date(instant: str) -> str:
    at = datetime.fromisoformat(instant).astimezone(CHINA_TIME)
    return f"{at.year}年{at.month}月{at.day}日"


def document_id(case_id: str, key: str) -> str:
    """Fixed by the case and the event: the same document however often it is produced."""
    return hashlib.sha256(f"{case_id}:{key}".encode()).hexdigest()[:20].upper()


def verify_path(doc_id: str) -> str:
    return f"/#/verify/{doc_id}"


def due(case: dict) -> list[str]:
    """The documents a case's state calls for (its view as stored: status, accepted_at,
    correction, result)."""
    keys = []
    if case.get("accepted_at"):
        keys.append(ACCEPTANCE)
    if case.get("correction"):
        # One notice per correction; a department joining it (一次性告知 merges them) makes the
        # notice that lists everything asked so far a document of its own.
        notice = case["correction"]
        keys.append(f"{CORRECTION}:{notice['requested_at']}#{len(notice.get('branches', []))}")
    outcome = (case.get("result") or {}).get("outcome")
    if outcome == "refused":
        keys.append(REFUSAL)
    elif outcome == "granted":
        keys += [GRANT, LICENCE]
    elif outcome == "denied":
        keys.append(DENIAL)
    return keys


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


def _limit(item: dict) -> str:
    unit = "日" if item.get("limit_unit") == "natural" else "个工作日"
    return f"{item['promised_limit_days']}{unit}"


def compose(key: str, case: dict, item: dict, hall: dict, department: dict, staff_name: str,
            at: datetime, licence: dict | None = None) -> Document:
    """The document `key` of `case` as of `at`: who acted is the department and staff member of
    the step that caused it (the caller finds them)."""
    kind = kind_of(key)
    applicant = case["applicant"].get("name") or "申请人"
    submitted = china_date(case["submitted_at"]) if case.get("submitted_at") else ""
    asked = f"你（单位）于{submitted}提出的“{item['name']}”申请（受理编号：{case['case_no']}）"
    basis = list(item.get("legal_basis") or [])
    rows: list[tuple[str, str]] = []
    if kind == ACCEPTANCE:
        paragraphs = [
            f"{asked}，经审查，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》"
            f"第三十二条第一款第（五）项的规定，决定予以受理。",
            f"本机关将自受理之日起{_limit(item)}内作出决定；依法需要听证、招标、拍卖、检验、"
            "检测、检疫、鉴定和专家评审的，所需时间不计算在内。",
            f"办理进度可凭受理编号在网上办事大厅查询。"]
        basis = ["《中华人民共和国行政许可法》第三十二条"] + basis
    elif kind == CORRECTION:
        notice = case.get("correction") or {}
        names = {m["id"]: m["name"] for m in item.get("materials", [])}
        wanted = [f"{i}. {names.get(m, m)}" for i, m in enumerate(notice.get("materials", []), 1)]
        paragraphs = [
            f"{asked}，经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》"
            "第三十二条第一款第（四）项的规定，现一次性告知你（单位）需要补正的全部内容：",
            *wanted,
            *[f"说明：{n}" for n in notice.get("notes", [])],
            "请通过网上办事大厅补正上述材料。补正期间不计入办理时限；补正材料齐全后，本机关将继续办理。"]
        basis = ["《中华人民共和国行政许可法》第三十二条"] + basis
    elif kind in (REFUSAL, DENIAL):
        result = case.get("result") or {}
        reasons = [f"{r['department_name']}：{r['reasons']}" for r in result.get("reasons", [])
                   if r.get("reasons")]
        decided = "决定不予受理" if kind == REFUSAL else "决定不予行政许可"
        law = ("第三十二条第一款" if kind == REFUSAL else "第三十八条第二款")
        paragraphs = [
            f"{asked}，经审查，根据《中华人民共和国行政许可法》{law}的规定，{decided}。理由如下：",
            *[f"{i}. {r}" for i, r in enumerate(reasons, 1)],
            RIGHTS]
        basis = [f"《中华人民共和国行政许可法》{law}"] + basis
    elif kind == GRANT:
        paragraphs = [
            f"{asked}，经审查，申请符合法定条件、标准，根据《中华人民共和国行政许可法》第三十八条"
            "第一款及下列依据的规定，决定准予行政许可。"]
        if licence:
            paragraphs.append(f"颁发{licence['kind_name']}，证照编号：{licence['number']}，"
                              f"持证主体：{licence['holder']['name']}。")
        basis = ["《中华人民共和国行政许可法》第三十八条"] + basis
    elif kind == LICENCE:
        if licence is None:
            raise ValueError("a licence document needs its licence")
        holder = licence["holder"]
        rows = [("证照名称", licence["kind_name"]), ("证照编号", licence["number"]),
                ("持证主体", holder["name"])]
        if holder.get("credit_code"):
            rows.append(("统一社会信用代码", holder["credit_code"]))
        if holder.get("legal_representative"):
            rows.append(("法定代表人（经营者）", holder["legal_representative"]))
        if holder.get("id_number"):
            rows.append(("公民身份号码", holder["id_number"]))
        rows += [("许可事项", item["name"]), ("发证机关", licence["department_name"]),
                 ("有效期限", f"{licence['valid_from']} 至 {licence.get('valid_until') or '长期'}")]
        paragraphs = [f"本证照依据{item['name']}办件（受理编号：{case['case_no']}）颁发，"
                      "与纸质证照具有同等法律效力，可扫描二维码核验真伪与状态。"]
        applicant = holder["name"]
    else:
        raise ValueError(f"unknown document {key!r}")
    doc_id = document_id(case["case_id"], key)
    year = datetime.fromisoformat(at.isoformat()).astimezone(CHINA_TIME).year
    return Document(
        key=key, kind=kind, document_id=doc_id,
        title=licence["kind_name"] if kind == LICENCE and licence else TITLES[kind],
        hall_name=hall["name"], number=f"〔{year}〕{case['case_no']}-{SUFFIX[kind]}",
        case_id=case["case_id"], case_no=case["case_no"], addressee=applicant,
        paragraphs=paragraphs, legal_basis=basis, department_name=department["name"],
        staff_name=staff_name, issued_at=at.isoformat(), verify_path=verify_path(doc_id),
        rows=rows)
