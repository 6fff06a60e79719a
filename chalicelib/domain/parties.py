"""Items two or more parties apply for together (不动产转移登记: both sides of the sale; 结婚登记:
both spouses). The item's `co_applicants` in the catalog says how many others an application
names besides its applicant; each is a person named by name and resident identity number,
checked as the real-name step checks them. Every party reads the case once signed in with the
identity number the application names; the applicant alone acts on it (uploads, submits).
Another party's identity number is shown masked to every reader but that party."""
from __future__ import annotations

from .errors import FieldProblem, Unprocessable
from .identity import id_number_problem, name_problem
from .masking import mask_id_number

FIELD = "co_applicants"


def parse(item: dict, data: object, applicant: dict) -> list[dict]:
    """The co-applicants an application names: as many as the item takes, each a valid
    person, none the applicant or named twice."""
    spec = item.get("co_applicants")
    if spec is None:
        if data in (None, []):
            return []
        raise Unprocessable(f"item {item['code']} is applied for by its applicant alone; "
                            f"it takes no {FIELD}", field=FIELD)
    entries = [] if data is None else data
    if not isinstance(entries, list):
        raise Unprocessable(f"{FIELD} is a list of {{name, id_number}}", field=FIELD)
    low, high = spec["min"], spec["max"]
    if not low <= len(entries) <= high:
        many = str(low) if low == high else f"{low} to {high}"
        raise Unprocessable(f"item {item['code']} is applied for together with {many} "
                            f"co-applicant(s) ({spec['title']}); the application names "
                            f"{len(entries)}", field=FIELD)
    seen = {str(applicant.get("id_number") or "").upper()}
    problems, parties = [], []
    for n, entry in enumerate(entries):
        where = f"{FIELD}.{n}"
        if not isinstance(entry, dict) or set(entry) - {"name", "id_number"}:
            problems.append(FieldProblem(where, "is an object with name and id_number only"))
            continue
        name, number = entry.get("name"), entry.get("id_number")
        wrong_name, wrong_number = name_problem(name), id_number_problem(number)
        if wrong_name:
            problems.append(FieldProblem(f"{where}.name", wrong_name))
        if wrong_number:
            problems.append(FieldProblem(f"{where}.id_number", wrong_number))
        elif number.strip().upper() in seen:
            problems.append(FieldProblem(f"{where}.id_number",
                                         "names the applicant or another co-applicant again"))
        if not wrong_name and not wrong_number:
            seen.add(number.strip().upper())
            parties.append({"name": name.strip(), "id_number": number.strip().upper()})
    if problems:
        raise Unprocessable(f"the {FIELD} are not valid", field=FIELD, problems=problems)
    return parties


def is_party(co_applicants: list[dict], id_number: str | None) -> bool:
    """Whether the identity number is one of the case's co-applicants."""
    return bool(id_number) and any(p["id_number"] == id_number for p in co_applicants)


def shown(co_applicants: list[dict], reader_id_number: str | None = None) -> list[dict]:
    """The co-applicants as a reader sees them: each identity number masked, except the
    reader's own."""
    return [p if reader_id_number and p["id_number"] == reader_id_number
            else {**p, "id_number": mask_id_number(p["id_number"])} for p in co_applicants]
