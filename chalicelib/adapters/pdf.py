"""A document as a PDF (fpdf2): A4, the hall's header, the title, the 文号, the text, the legal
basis, the department, staff member and date, the seal's place and a QR code to the document's
public verification page. The font is the committed subset of WenQuanYi Zen Hei
(chalicelib/fonts), of which fpdf2 embeds only the glyphs the document uses; the QR code
(segno) is drawn as vector squares."""
from __future__ import annotations

from pathlib import Path

from ..domain.documents import Document

FONT = Path(__file__).resolve().parent.parent / "fonts" / "wqy-zenhei-subset.ttf"
RED = (200, 16, 46)


def render(document: Document, origin: str) -> bytes:
    """The PDF of `document`; `origin` is the website's address the QR code points to."""
    import segno
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creator("网上审批及电子监察系统")
    pdf.set_title(f"{document.title} {document.number}")
    pdf.set_subject(document.case_no)
    pdf.set_keywords(f"document:{document.document_id}")   # found again by a check
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(_instant(document.issued_at))
    pdf.add_font("zh", fname=str(FONT))
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_margins(22, 18, 22)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_text_color(*RED)
    pdf.set_font("zh", size=20)
    pdf.cell(width, 12, document.hall_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(6)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("zh", size=18)
    pdf.cell(width, 12, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("zh", size=11)
    pdf.cell(width, 8, document.number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("zh", size=12)
    if document.rows:
        for label, value in document.rows:
            pdf.set_font("zh", size=11)
            pdf.cell(45, 9, label, border=1)
            pdf.set_font("zh", size=12)
            pdf.multi_cell(width - 45, 9, value, border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    else:
        pdf.multi_cell(width, 8, f"{document.addressee}：", new_x="LMARGIN", new_y="NEXT")
    for paragraph in document.paragraphs:
        pdf.multi_cell(width, 8, "\u3000\u3000" + paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("zh", size=10)
    pdf.multi_cell(width, 6, "法律依据：" + "；".join(document.legal_basis),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    # Signature block, the seal's drawn mark and the QR code, kept together on one page.
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("zh", size=12)
    right = pdf.w - pdf.r_margin - 80
    for line in (document.department_name, f"承办人：{document.staff_name}", document.date):
        pdf.set_x(right)
        pdf.cell(80, 8, line, align="C", new_x="LMARGIN", new_y="NEXT")
    _seal_mark(pdf, right + 40, top + 12, document.hall_name)

    qr = segno.make(origin.rstrip("/") + document.verify_path, error="m")
    size, x0, y0 = 30.0, pdf.l_margin, top
    module = size / len(qr.matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(qr.matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x0 + c * module, y0 + r * module, module, module, style="F")
    pdf.set_xy(x0, y0 + size + 1)
    pdf.set_font("zh", size=8)
    pdf.cell(60, 5, "扫码核验电子印章与文书状态", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x0)
    pdf.cell(60, 5, f"文书编号：{document.document_id}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _seal_mark(pdf, cx: float, cy: float, name: str) -> None:
    """The electronic seal's visible mark (the signature itself is in the PDF's signature)."""
    pdf.set_draw_color(*RED)
    pdf.set_text_color(*RED)
    pdf.set_line_width(0.9)
    pdf.circle(cx, cy, 18, style="D")
    pdf.set_font("zh", size=16)
    pdf.set_xy(cx - 10, cy - 7)
    pdf.cell(20, 8, "★", align="C")
    pdf.set_font("zh", size=6.5)
    pdf.set_xy(cx - 17, cy + 2)
    pdf.cell(34, 5, name, align="C")
    pdf.set_xy(cx - 17, cy + 7)
    pdf.cell(34, 4, "电子印章", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def _instant(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)
