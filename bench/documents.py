"""Official documents: producing one (composing it, the PDF with its embedded CJK font subset and
its QR code, the PAdES seal) per kind, median and p95 of each step and of the whole, and the
sealed file's size; then verifying one. The seal's key signs in memory here (the same code path
as KMS but for the call: a KMS Sign adds its round trip, one per document, and GetPublicKey and
one Sign once per process for the seal's certificate)."""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timezone

ROUNDS = 12


def _case(kind: str) -> dict:
    case = {"case_id": "3f2b8c1e9a7d4f60b5e2c8a1d9f07e43", "case_no": "BZ-20261130-00001",
            "hall": "BZ", "submitted_at": "2026-11-30T02:00:00+00:00",
            "accepted_at": "2026-11-30T03:00:00+00:00",
            "applicant": {"name": "张三", "id_number": "341602199001011234", "kind": "person"},
            "form": {"company_name": "亳州市芍香中药材贸易有限公司"}, "result": None,
            "correction": None}
    if kind == "correction":
        case["correction"] = {"requested_at": "2026-11-30T04:00:00+00:00",
                              "materials": ["premises_proof", "articles_of_association"],
                              "notes": ["租赁合同缺少出租方签字页"], "branches": ["0:SCJG"]}
    if kind in ("denial", "refusal"):
        case["result"] = {"outcome": "denied", "reasons": [
            {"department_name": "国家税务总局亳州市税务局", "reasons": "法定代表人为失信被执行人，"
             "依据《企业信息公示暂行条例》第十八条不予登记"}]}
    return case


def _ms(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1)}


def run() -> dict:
    from chalicelib import catalog
    from chalicelib.adapters.pdf import render
    from chalicelib.adapters.seal import LocalSealKey, Seal
    from chalicelib.domain import documents, licences

    import os

    load_before = os.getloadavg()[0]
    published = catalog.published()
    item = published.items["SCJG-001"]
    hall, department = published.halls["BZ"], published.departments["SCJG"]
    seal = Seal(LocalSealKey())
    started = time.perf_counter()
    seal.certificate
    certificate_ms = round((time.perf_counter() - started) * 1000, 1)
    at = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)
    kinds = ("acceptance", "correction:2026-11-30T04:00:00+00:00", "denial", "grant", "licence")
    out, sealed_example = {}, None
    for key in kinds:
        case = _case(documents.kind_of(key))
        licence = licences.issue("9C4E1A7B2D5F8E03", item, case, department, at, ["SCJG"])
        renders, seals, totals, sizes = [], [], [], []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            document = documents.compose(key, case, item, hall, department, "张慧敏", at, licence)
            raw = render(document, "https://zwfw.example")
            t1 = time.perf_counter()
            signed = seal.sign(raw, reason=document.title, location=hall["name"])
            t2 = time.perf_counter()
            renders.append(t1 - t0)
            seals.append(t2 - t1)
            totals.append(t2 - t0)
            sizes.append(len(signed))
        sealed_example = signed
        out[documents.kind_of(key)] = {"render": _ms(renders), "seal": _ms(seals),
                                       "total": _ms(totals), "bytes": int(statistics.median(sizes))}
    verifies = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        assert seal.verify(sealed_example).valid
        verifies.append(time.perf_counter() - t0)
    all_totals = [v["total"]["median_ms"] for v in out.values()]
    return {"rounds": ROUNDS, "kinds": out, "verify": _ms(verifies),
            "load_average": round((load_before + os.getloadavg()[0]) / 2, 1),
            "cpus": os.cpu_count(),
            "seal_certificate_ms": certificate_ms,
            "median_total_ms": round(statistics.median(all_totals), 1),
            "font_subset_bytes": _font_bytes()}


def _font_bytes() -> int:
    from chalicelib.adapters.pdf import FONT

    return FONT.stat().st_size


def report(d: dict) -> list[str]:
    lines = ["## Official documents", "",
             f"Each kind produced {d['rounds']} times in one process: composed, rendered as a PDF "
             "(fpdf2, the committed WenQuanYi Zen Hei subset of "
             f"{d['font_subset_bytes'] // 1024} KB, of which each file embeds the glyphs it "
             "uses; a vector QR code) and sealed (pyHanko, PAdES, RSA 2048 signing in memory: "
             "in the cloud KMS Sign adds one round trip per document). The seal's certificate "
             f"is made once per process ({d['seal_certificate_ms']} ms here; in the cloud "
             "GetPublicKey and one Sign). Measured with a load average of "
             f"{d.get('load_average', '?')} on {d.get('cpus', '?')} cores (the machine was "
             "shared): on an idle core each step takes a fraction of these times.", "",
             "| document | render median / p95 | seal median / p95 | total median / p95 | size |",
             "|---|---|---|---|---|"]
    for kind, v in d["kinds"].items():
        lines.append(f"| {kind} | {v['render']['median_ms']} / {v['render']['p95_ms']} ms | "
                     f"{v['seal']['median_ms']} / {v['seal']['p95_ms']} ms | "
                     f"{v['total']['median_ms']} / {v['total']['p95_ms']} ms | "
                     f"{v['bytes'] // 1024} KB |")
    lines += ["", f"Verifying a sealed document (intact, the hall's certificate, whole file): "
              f"median {d['verify']['median_ms']} ms, p95 {d['verify']['p95_ms']} ms.", ""]
    return lines
