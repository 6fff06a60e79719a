"""Official documents and e-licences: producing each sealed document when its event happens,
handing them to the applicant and the departments, verifying them publicly, and the issuing
department's changes of a licence's status.

A document is produced once per case and key (chalicelib/domain/documents.py): the handler of
the event (a stage decided, a correction notice) asks for the documents the case's state calls
for, and those the case does not hold yet are rendered, sealed (KMS), stored, and recorded in
the case's trail with their SHA-256 (`document_issued`), the case keeping each one's id and hash.
A message handled again finds them recorded and produces nothing; a document produced twice
because the first try failed before its trail record is stored under its own hash, and the
case names the one its trail recorded."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Callable

from ..domain import documents as docs
from ..domain import licences as rules
from ..domain import rights
from ..domain.cases import Caller, Case
from ..domain.catalog import Catalog
from ..domain.errors import InvalidInput, NotFound, Unprocessable
from ..domain.pages import Page
from .intake import record_change, retrying

SYSTEM = Caller("system", "documents")
DOWNLOAD_SECONDS = 300
MAX_CHECKED_BYTES = 65_000            # as base64 within the edge's limits (a document: ~40 KB)


class Documents:
    def __init__(self, catalog: Catalog, cases, store, licences, seal, now: Callable[[], datetime],
                 origin: str = "", own_case: Callable[[Caller, str], Case] | None = None,
                 render: Callable | None = None):
        self.catalog = catalog
        self.cases = cases
        self.store = store              # documents/<id>.json and their sealed PDFs
        self.licences = licences        # certificates/<number>.json: the licence records
        self.seal = seal                # adapters/seal.py Seal: sign and verify
        self.now = now
        self.origin = origin            # the website's address, for the QR codes
        self.own_case = own_case        # the case, if the caller may read it (intake's rule)
        if render is None:
            from ..adapters.pdf import render
        self.render = render

    # -- the events ---------------------------------------------------------------------------
    def subscribe(self, bus) -> None:
        from ..domain import events

        bus.subscribe(events.StageDecided, lambda event: self.issue_due(event.case_id))
        # A correction notice or refusal, sealed as the decision is answered; the decision is
        # committed before with its hand-over, so a seal that fails (KMS or S3 down) is issued
        # by the sweeper once the fault is over, and the decision is answered meanwhile.
        bus.subscribe(events.DocumentsDue, lambda event: self.issue_due(event.case_id))

    def issue_due(self, case_id: str) -> list[str]:
        """Produces the documents the case calls for and does not hold; their keys."""
        case = self.cases.get(case_id)
        if case is None or not case.case_no:
            return []
        issued = []
        for key in docs.due(case.to_dict()):
            if key not in case.documents:
                record = self._produce(case, key)
                retrying(lambda: self._record(case_id, key, record))
                issued.append(key)
                case = self.cases.get(case_id)
            self._agree(case.documents[key])
        return issued

    def _agree(self, entry: dict) -> None:
        """The document's record names the file the trail recorded: two handlings that raced
        each stored a file and a record, and the one whose trail record lost rewrote the record
        (or failed before it noticed, and this handling rewrites it)."""
        record = self.store.get_record(entry["document_id"])
        if record is not None and record["sha256"] == entry["sha256"]:
            return
        pdf_key = f"documents/{entry['document_id']}/{entry['sha256']}.pdf"
        self.store.put_record(entry["document_id"], {
            **(record or {}), **{k: entry[k] for k in ("document_id", "kind", "title", "number",
                                                      "issued_at")},
            "sha256": entry["sha256"], "size": entry.get("size"), "pdf_key": pdf_key})

    def _produce(self, case: Case, key: str) -> dict:
        item = self.catalog.items[case.item_code]
        kind = docs.kind_of(key)
        department, staff_name = self._who(case, kind, item)
        licence = None
        if kind in (docs.GRANT, docs.LICENCE) and (case.result or {}).get("certificate"):
            licence = self.licences.get(case.result["certificate"])
        at = self.now()
        document = docs.compose(key, case.to_dict(), item, self.catalog.halls[case.hall],
                                self.catalog.departments[department], staff_name, at, licence)
        pdf = self.seal.sign(self.render(document, self.origin),
                             reason=f"{document.title} {document.number}",
                             location=document.hall_name)
        from ..adapters.seal import sha256

        digest = sha256(pdf)
        pdf_key = f"documents/{document.document_id}/{digest}.pdf"
        self.store.put_pdf(pdf_key, pdf)
        record = {**document.summary(), "case_id": case.case_id, "hall": case.hall,
                  "item_code": item["code"], "item_name": item["name"],
                  "department": department, "holder": _holder(case, licence),
                  "licence": licence["number"] if licence else None,
                  "sha256": digest, "size": len(pdf), "pdf_key": pdf_key}
        self.store.put_record(document.document_id, record)
        if licence is not None and kind == docs.LICENCE:
            licence["document"] = document.document_id
            self.licences.put(licence["number"], licence)
        return record

    def _record(self, case_id: str, key: str, record: dict) -> None:
        case = self.cases.get(case_id)
        if key in case.documents:
            return
        case.documents[key] = {"document_id": record["document_id"], "kind": record["kind"],
                               "title": record["title"], "number": record["number"],
                               "sha256": record["sha256"], "size": record["size"],
                               "issued_at": record["issued_at"]}
        self.cases.update(case, record_change(case, "document_issued", SYSTEM, self.now(), {
            "key": key, "document_id": record["document_id"], "title": record["title"],
            "number": record["number"], "sha256": record["sha256"], "size": record["size"]}))

    def _who(self, case: Case, kind: str, item: dict) -> tuple[str, str]:
        """The department and staff member whose act the document records."""
        branches = sorted(self.cases.branches(case.case_id), key=lambda b: (b.stage, b.branch_id))
        if kind in (docs.ACCEPTANCE, docs.REFUSAL):
            chosen = [b for b in branches if b.stage == 0]
        elif kind == docs.CORRECTION:
            wanted = set((case.correction or {}).get("branches", []))
            chosen = [b for b in branches if b.branch_id in wanted]
        elif kind == docs.DENIAL:
            chosen = [b for b in branches if b.outcome in ("denied", "refused")]
        else:
            lead = item["lead_department"]
            chosen = [b for b in reversed(branches) if b.department == lead and b.stage > 0] \
                or [b for b in reversed(branches) if b.stage > 0]
        branch = next(iter(chosen), None) or next((b for b in branches if b.stage >= 0), None)
        department = branch.department if branch else item["lead_department"]
        staff_id = ((branch.decided_by or "").removeprefix("staff:") or branch.staff_id) \
            if branch else ""
        staff = self.catalog.staff(staff_id)
        return department, staff.name if staff else "系统"

    # -- reading ------------------------------------------------------------------------------
    def download(self, caller: Caller, case_id: str, document_id: str) -> dict:
        """A five-minute link to one of the case's documents, for its applicant or a department
        that may read the case."""
        case = self.own_case(caller, case_id)
        found = next((d for d in case.documents.values() if d["document_id"] == document_id),
                     None)
        if found is None:
            raise NotFound(f"办件 {case_id} 没有文书 {document_id!r}", field="document_id")
        record = self.store.get_record(document_id)
        link = self.store.link(record["pdf_key"], f"{record['title']}-{record['case_no']}.pdf",
                               DOWNLOAD_SECONDS)
        return {**_public(record), "sha256": record["sha256"], "size": record["size"], **link}

    def check(self, document_id: str) -> dict:
        """The public verification page: what the document says (the holder masked), whether
        the stored file still carries the hall's intact seal and the hash the trail recorded,
        and for a licence its status now."""
        if not isinstance(document_id, str) or not document_id.isalnum() \
                or len(document_id) > 40:
            raise NotFound(f"未找到文书 {document_id!r}", field="document_id")
        record = self.store.get_record(document_id.upper())
        if record is None:
            raise NotFound(f"未找到文书 {document_id!r}", field="document_id")
        pdf = self.store.get_pdf(record["pdf_key"]) or b""
        from ..adapters.seal import sha256

        verdict = self.seal.verify(pdf).to_dict()
        if verdict["valid"] and sha256(pdf) != record["sha256"]:
            verdict = {**verdict, "valid": False, "code": "differs",
                       "reason": "存档文件与办件记录的摘要不一致"}
        out = {**_public(record), "seal": verdict}
        if record.get("licence"):
            licence = self.licences.get(record["licence"])
            if licence:
                out["licence"] = rules.public_view(rules.normalised(licence), self.now().date())
        return out

    def check_file(self, body: dict) -> dict:
        """Anyone checks a PDF they were handed: the seal (intact, the hall's), and whether it
        is the very file the case's trail recorded."""
        if not isinstance(body, dict) or not isinstance(body.get("pdf"), str) or not body["pdf"]:
            raise InvalidInput("pdf 为必填：PDF 文件内容的 base64 编码", field="pdf")
        if len(body["pdf"]) > MAX_CHECKED_BYTES * 4 // 3 + 4:
            raise Unprocessable(f"pdf 文件超过 {MAX_CHECKED_BYTES} 字节", field="pdf")
        try:
            data = base64.b64decode(body["pdf"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("pdf 不是有效的 base64 编码", field="pdf")
        from ..adapters.seal import sha256

        verdict = self.seal.verify(data).to_dict()
        out = {"seal": verdict, "sha256": sha256(data), "document": None}
        document_id = _document_id_in(data)
        record = self.store.get_record(document_id) if document_id else None
        if record is not None:
            out["document"] = _public(record)
            out["same_as_recorded"] = record["sha256"] == out["sha256"]
            if verdict["valid"] and not out["same_as_recorded"]:
                out["seal"] = {**verdict, "valid": False, "code": "differs",
                               "reason": "该文件与办件记录的文书摘要不一致"}
        return out

    # -- licences -----------------------------------------------------------------------------
    def licence(self, number: str) -> dict:
        found = self._licence(number, "code")
        out = rules.public_view(rules.normalised(found), self.now().date())
        if found.get("document"):
            record = self.store.get_record(found["document"])
            pdf = self.store.get_pdf(record["pdf_key"]) if record else None
            out["seal"] = self.seal.verify(pdf or b"").to_dict()
        return out

    def my_licences(self, caller: Caller, limit: int = 200) -> dict:
        """The applicant's licences (issued on their applications or held by them), in force
        first: what the website offers to stand for a material."""
        found, cursor, seen = [], None, 0
        today = self.now().date()
        if caller.id_number:
            while seen < limit:
                cases, cursor = self.cases.by_applicant(caller.id_number, Page(50, cursor))
                seen += len(cases)
                for case in cases:
                    number = (case.result or {}).get("certificate")
                    licence = self.licences.get(number) if number else None
                    if licence and rules.is_own(rules.normalised(licence), caller.id_number):
                        found.append(rules.public_view(rules.normalised(licence), today)
                                     | {"holder": rules.normalised(licence)["holder"]})
                if not cursor:
                    break
        found.sort(key=lambda v: (not v["valid"], v.get("issued_at") or ""), reverse=False)
        return {"licences": found}

    def change_status(self, caller: Caller, number: str, body: dict) -> dict:
        """The issuing department sets a licence changed, revoked or expired, with reasons,
        recorded in the trail of the case that issued it."""
        staff = rights.acting_staff(caller, body if isinstance(body, dict) else None)
        licence = rules.normalised(self._licence(number, "number"))
        at = self.now()
        change = rules.change_status(licence, body, caller.principal, caller.actor, at)
        self.licences.put(licence["number"], licence)

        def trail() -> None:
            case = self.cases.get(licence["case_id"])
            if case is None:
                return
            self.cases.update(case, record_change(case, "licence_status_changed", caller, at, {
                "licence": licence["number"], "from": change["from"], "to": change["to"],
                "reasons": change["reasons"], "staff_id": staff.staff_id,
                **({"changes": change["changes"]} if "changes" in change else {})}))
        retrying(trail)
        return rules.public_view(licence, at.date())

    def _licence(self, number, field: str) -> dict:
        found = self.licences.get(number) if isinstance(number, str) and number.isalnum() \
            and len(number) <= 40 else None
        if found is None:
            raise NotFound(f"未找到编号为 {number!r} 的电子证照", field=field)
        return found


def _holder(case: Case, licence: dict | None) -> dict:
    if licence:
        return licence["holder"]
    applicant = case.applicant
    return {"kind": applicant.get("kind", "person"), "name": applicant.get("name", ""),
            "id_number": applicant.get("id_number", "")}


def _public(record: dict) -> dict:
    """A document's record as anyone may read it: a person's name and number masked."""
    from ..domain.masking import mask_id_number, mask_name

    holder = dict(record.get("holder") or {})
    if holder.get("kind") != "company":
        holder["name"] = mask_name(holder.get("name") or "")
        if holder.get("id_number"):
            holder["id_number"] = mask_id_number(holder["id_number"])
    if holder.get("legal_representative"):
        holder["legal_representative"] = mask_name(holder["legal_representative"])
    keep = ("document_id", "key", "kind", "title", "number", "case_no", "hall_name",
            "department_name", "staff_name", "issued_at", "item_code", "item_name", "licence",
            "sha256")
    return {**{k: record.get(k) for k in keep}, "holder": holder}


def _document_id_in(pdf: bytes) -> str | None:
    """The document id the PDF names in its keywords (adapters/pdf.py writes it)."""
    import re
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        keywords = PdfFileReader(BytesIO(pdf), strict=False).document_meta_view.keywords or []
    except Exception:  # noqa: BLE001 - an unreadable file names no document
        return None
    found = [m.group(1) for k in keywords if (m := re.fullmatch(r"document:([0-9A-F]{20})",
                                                                 str(k)))]
    return found[0] if found else None
