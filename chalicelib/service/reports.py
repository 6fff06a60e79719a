"""The performance reports (绩效报表): a ranking as CSV with Chinese column titles, and a
period's compilation (`domain.scoring.compile_period`) as a self-contained HTML page with its
charts (pygal, inline SVG). Presentation only: what the figures are is the domain's."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from html import escape

from ..domain.periods import DAY, MONTH, QUARTER, WEEK, days_of_week, period_kind
from ..domain.scorecards import FIGURES


# -- export ------------------------------------------------------------------------------------
CSV_COLUMNS = (("rank", "排名"), ("subject", "编码"), ("name", "名称"), ("hall", "大厅"),
               ("department", "部门"), ("period", "统计周期"), ("composite", "综合得分"),
               ("onboarding_rate", "入驻率(%)"), ("online_rate", "网办率(%)"),
               ("on_time_rate", "按时办结率(%)"), ("satisfaction_rate", "满意率(%)"),
               ("very_satisfied_rate", "非常满意率(%)"), ("early_completion_rate", "提前办结率(%)"),
               ("step_on_time_rate", "环节按时办结率(%)"),
               ("hotline_answer_rate", "12345办结率(%)"),
               ("average_working_days", "平均办理时长(工作日)"), ("applications", "申报件数"),
               ("applications_online", "网上申报件数"), ("completed", "办结件数"),
               ("completed_on_time", "按时办结件数"), ("completed_early", "提前办结件数"),
               ("steps_completed", "办结环节数"), ("steps_on_time", "按时办结环节数"),
               ("cards_yellow", "黄牌"), ("cards_red", "红牌"), ("open_orders", "未办结督办单"),
               ("orders_overdue", "逾期督办单"), ("complaints", "投诉"), ("ratings", "评价数"),
               ("ratings_very_satisfied", "非常满意数"), ("ratings_bad", "差评数"),
               ("rectifications_overdue", "逾期整改"), ("hotline_requests", "12345件数"),
               ("hotline_answered", "12345已答复"), ("hotline_reprimands", "12345通报批评"))
PERCENT = {"onboarding_rate", "online_rate", "on_time_rate", "satisfaction_rate",
           "very_satisfied_rate", "early_completion_rate", "step_on_time_rate",
           "hotline_answer_rate"}


def _as_dict(entry) -> Mapping:
    return entry.to_dict() if hasattr(entry, "to_dict") else entry


def _cell(key: str, value) -> str:
    if value is None:
        return ""
    if key in PERCENT:
        return f"{100 * value:.2f}"
    if key in ("composite", "average_working_days"):
        return f"{value:.2f}"
    return str(value)


def to_csv(ranking: Iterable, excel: bool = False) -> str:
    """A ranking (Ranked entries or their dicts) as CSV with Chinese column titles; rates in
    percent, empty where a rate has no denominator. `excel` adds the BOM Excel needs to read
    UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    for entry in ranking:
        row = _as_dict(entry)
        withheld = row.get("insufficient") or {}
        writer.writerow(["样本不足" if key in withheld else _cell(key, row.get(key))
                         for key, _ in CSV_COLUMNS])
    return ("\ufeff" if excel else "") + buffer.getvalue()


# -- the monthly report ------------------------------------------------------------------------
CJK_FONTS = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
RATE_TITLES = (("onboarding_rate", "入驻率"), ("online_rate", "网办率"),
               ("on_time_rate", "按时办结率"), ("satisfaction_rate", "满意率"))


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _rate(entry: Mapping, key: str) -> str:
    """A rate in percent, 样本不足 where it is withheld for too few cases."""
    if key in (entry.get("insufficient") or {}):
        return "样本不足"
    return _percent(entry.get(key))


def _number(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _period_title(period: str) -> str:
    kind = period_kind(period)
    if kind == MONTH:
        return f"{period[:4]}年{int(period[5:])}月"
    if kind == QUARTER:
        return f"{period[:4]}年第{period[-1]}季度"
    if kind == WEEK:
        first, last = days_of_week(period)[0], days_of_week(period)[-1]
        return (f"{period[:4]}年第{int(period[6:])}周（{int(first[5:7])}月{int(first[8:])}日至"
                f"{int(last[5:7])}月{int(last[8:])}日）")
    return f"{period[:4]}年{int(period[5:7])}月{int(period[8:])}日"


def _chart(kind: str, title: str, labels: list[str], series: list[tuple[str, list]],
           percent: bool = False, max_value: float | None = None,
           colors: tuple[str, ...] = ("#2b7bb9", "#e8793a", "#3aa57a", "#8e63b8")) -> str:
    """One inline SVG chart (pygal, its JavaScript left out so the page stands alone), bars
    horizontal and the first label on top."""
    import pygal   # deferred: only the report needs it
    from pygal.style import Style

    style = Style(font_family=CJK_FONTS, background="white", plot_background="white",
                  title_font_size=16, label_font_size=11, major_label_font_size=11,
                  legend_font_size=12, value_font_size=10, colors=colors)
    rows = max(1, len(labels)) * (max(1, len(series)) if kind == "grouped" else 1)
    chart_class = pygal.HorizontalStackedBar if kind == "stacked" else pygal.HorizontalBar
    options = {}
    if kind == "stacked":   # counts: whole-number ticks
        top = max([sum(v or 0 for v in column) for column in zip(*(v for _, v in series))] or [0])
        options["y_labels"] = list(range(0, int(top) + 2, max(1, (int(top) + 1) // 10 or 1)))
    longest = max((len(label) for label in labels), default=0)
    chart = chart_class(title=title, style=style, js=[], width=900,
                        height=max(240, 90 + 18 * rows), show_legend=len(series) > 1,
                        legend_at_bottom=True, print_values=kind == "bar",
                        value_formatter=(lambda v: f"{v:.2f}%") if percent
                        else (lambda v: f"{v:.2f}") if kind == "bar" else (lambda v: f"{v:g}"),
                        truncate_label=-1, margin_left=6 * longest,   # CJK labels run wide
                        range=(0, max_value) if max_value else None, **options)
    chart.x_labels = labels[::-1]
    for name, values in series:
        chart.add(name, values[::-1])
    return chart.render(is_unicode=True, disable_xml_declaration=True)


def _table(entries: list[dict], limit: int | None = None) -> str:
    head = ("排名", "名称", "综合得分", "入驻率", "网办率", "按时办结率", "满意率", "提前办结率",
            "平均办理时长", "办结件数", "黄牌", "红牌", "未办结督办单", "投诉")
    rows = []
    for entry in entries[:limit]:
        cells = ("—" if entry["rank"] is None else entry["rank"],
                 entry.get("name") or entry["subject"], _number(entry["composite"]),
                 _rate(entry, "onboarding_rate"), _rate(entry, "online_rate"),
                 _rate(entry, "on_time_rate"), _rate(entry, "satisfaction_rate"),
                 _rate(entry, "early_completion_rate"),
                 _number(entry["average_working_days"]), entry["completed"],
                 entry["cards_yellow"], entry["cards_red"], entry["open_orders"],
                 entry["complaints"])
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


KIND_TITLES = {MONTH: "月报", QUARTER: "季报", DAY: "日报", WEEK: "周报"}


def report_title(compiled: dict) -> str:
    """亳州市政务服务中心2026年11月绩效月报: the hall (none: every hall), the period, the kind."""
    period = compiled["period"]
    return (f"{compiled.get('hall_name') or ''}{_period_title(period)}绩效"
            f"{KIND_TITLES[period_kind(period)]}")


def report_summary(compiled: dict) -> str:
    """One sentence of a report's totals for a text message, 样本不足 where withheld."""
    t = compiled["totals"]
    withheld = t.get("insufficient") or {}

    def rate(key):
        return "样本不足" if key in withheld else _percent(t.get(key))

    return (f"申报{t['applications']}件，办结{t['completed']}件，按时办结率{rate('on_time_rate')}，"
            f"满意率{rate('satisfaction_rate')}，非常满意率{rate('very_satisfied_rate')}，"
            f"黄牌{t['cards_yellow']}张、红牌{t['cards_red']}张，投诉{t['complaints']}件。")


def monthly_report(compiled: dict, title: str | None = None, top_staff: int = 20) -> str:
    """A self-contained HTML report of one compiled period (`compile_period`'s output): the
    totals, charts of the departments' composite scores, four rates and cards / complaints, the
    department, window and staff rankings and, for a quarter, the red-flag windows."""
    period = compiled["period"]
    title = title or report_title(compiled)
    departments = compiled["departments"]
    scored = [d for d in departments if d["rank"] is not None]
    labels = [d.get("short_name") or d.get("name") or d["subject"] for d in scored]
    t = compiled["totals"]
    summary = (("申报件数", t["applications"]), ("网办率", _rate(t, "online_rate")),
               ("办结件数", t["completed"]), ("按时办结率", _rate(t, "on_time_rate")),
               ("提前办结率", _rate(t, "early_completion_rate")),
               ("环节按时办结率", _rate(t, "step_on_time_rate")),
               ("满意率", _rate(t, "satisfaction_rate")),
               ("非常满意率", _rate(t, "very_satisfied_rate")),
               ("12345办结率", _rate(t, "hotline_answer_rate")),
               ("平均办理时长(工作日)", _number(t["average_working_days"])),
               ("黄牌", t["cards_yellow"]), ("红牌", t["cards_red"]),
               ("未办结督办单", t["open_orders"]), ("逾期督办单", t["orders_overdue"]),
               ("投诉", t["complaints"]), ("差评", t["ratings_bad"]),
               ("逾期整改", t["rectifications_overdue"]),
               ("12345通报批评", t["hotline_reprimands"]))
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:" + CJK_FONTS + ";margin:2em auto;max-width:1000px;"
        "color:#222}table{border-collapse:collapse;width:100%;font-size:13px;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:4px 6px;text-align:right}"
        "td:nth-child(2),th:nth-child(2){text-align:left}th{background:#f0f3f7}"
        "figure{margin:1em 0}svg{max-width:100%;height:auto}"
        ".summary td:first-child{text-align:left}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>统计周期：{escape(period)}　统计对象：{len(departments)} 个部门、"
        f"{len(compiled['windows'])} 个窗口、{len(compiled['staff'])} 名工作人员</p>",
        "<h2>总体情况</h2><table class=\"summary\"><tbody>"
        + "".join(f"<tr><td>{k}</td><td>{escape(str(v))}</td></tr>" for k, v in summary)
        + "</tbody></table>",
        "<h2>部门综合得分</h2><figure>"
        + _chart("bar", "部门综合得分", labels, [("综合得分", [d["composite"] for d in scored])],
                 max_value=100) + "</figure>",
        "<h2>部门“四率”</h2><figure>"
        + _chart("grouped", "部门“四率”（%）", labels,
                 [(name, [None if d[key] is None else round(100 * d[key], 2) for d in scored])
                  for key, name in RATE_TITLES], percent=True, max_value=100) + "</figure>",
        "<h2>黄牌、红牌与投诉</h2><figure>"
        + _chart("stacked", "黄牌、红牌与投诉", labels,
                 [("黄牌", [d["cards_yellow"] for d in scored]),
                  ("红牌", [d["cards_red"] for d in scored]),
                  ("投诉", [d["complaints"] for d in scored])],
                 colors=("#f2c12e", "#d9342b", "#4a6fa5")) + "</figure>",
        "<h2>部门排名</h2>" + _table(departments),
        "<h2>窗口排名</h2>" + _table(compiled["windows"]),
        f"<h2>工作人员排名（前{top_staff}名）</h2>" + _table(compiled["staff"], top_staff),
    ]
    if compiled.get("red_flag_windows"):
        parts.append("<h2>红旗窗口</h2><ul>" + "".join(
            f"<li>{escape(hall)}：{escape(w.get('name') or w['subject'])}"
            f"（综合得分 {_number(w['composite'])}，办结 {w['completed']} 件）</li>"
            for hall, w in compiled["red_flag_windows"].items()) + "</ul>")
    parts.append("<p>综合得分 = 各项比率按权重加权（无分母或样本不足的比率不计），"
                 "减去黄牌、红牌、未办结督办单、逾期督办单、投诉、逾期整改与12345通报批评的扣分，"
                 f"取值 0–100；少于 {compiled.get('min_sample', 0)} 件的数据显示为“样本不足”。</p>")
    parts.append("<h2>指标说明</h2><dl>" + "".join(
        f"<dt>{escape(f.name)}</dt><dd>{escape(f.numerator_zh)} ÷ {escape(f.denominator_zh)}</dd>"
        for f in FIGURES) + "</dl>")
    parts.append("</body></html>")
    return "\n".join(parts)
