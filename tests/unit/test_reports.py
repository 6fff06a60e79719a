"""Performance reports: a ranking as CSV, a compiled period as an HTML page with charts."""
import csv
import io

from chalicelib.domain.scoring import Weights, compile_period, rank
from chalicelib.service.reports import CSV_COLUMNS, monthly_report, to_csv

from .small_hall import CATALOG, PERFECT, RANKED_FROM_5, card, sample_counters


# -- exports -----------------------------------------------------------------------------------
def test_csv_has_a_header_row_and_one_line_per_entry():
    out = compile_period(sample_counters(), CATALOG, "2026-11", RANKED_FROM_5)
    text = to_csv(out["departments"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [title for _, title in CSV_COLUMNS]
    assert rows[0][:3] == ["排名", "编码", "名称"] and "网办率(%)" in rows[0]
    assert len(rows) == 1 + len(out["departments"])
    first = dict(zip(rows[0], rows[1]))
    assert first["编码"] == "A" and first["名称"] == "甲局" and first["排名"] == "1"
    assert first["网办率(%)"] == "100.00" and first["入驻率(%)"] == "66.67"
    unknown = dict(zip(rows[0], rows[3]))
    assert unknown["排名"] == "" and unknown["入驻率(%)"] == "" and unknown["按时办结率(%)"] == ""
    # Ranked entries export alike, and Excel gets its BOM on request.
    ranked = rank([card(**PERFECT)], Weights())
    assert to_csv(ranked).splitlines()[1].startswith("1,A,")
    assert to_csv(ranked, excel=True).startswith("\ufeff排名")


def test_the_monthly_report_is_a_self_contained_html_page_with_charts():
    out = compile_period(sample_counters(), CATALOG, "2026-11", Weights(), hall="CITY")
    page = monthly_report(out)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page
    assert page.count("<svg") >= 3
    for title in ("市政务服务中心2026年11月绩效月报", "部门综合得分", "部门“四率”",
                  "黄牌、红牌与投诉", "部门排名", "窗口排名", "工作人员排名"):
        assert title in page, title
    assert "甲局" in page and "乙" in page
    # Nothing to fetch from elsewhere.
    assert "<script src" not in page and "xlink:href=\"http" not in page
    assert "kozea.github.io" not in page


def test_the_quarter_report_names_its_red_flag_windows():
    out = compile_period(sample_counters(), CATALOG, "2026-Q4",
                           {"CITY": {"red_flag_min_completed": 30}})
    page = monthly_report(out, title="第四季度<报告>")
    assert "<title>第四季度&lt;报告&gt;</title>" in page
    assert "红旗窗口" in page and "甲窗口1" in page
