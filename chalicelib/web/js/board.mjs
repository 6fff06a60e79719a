// 政务公开: the public disclosure board, live (every 15 s), no sign-in.
import { get } from "./api.mjs";
import { crumbs, dateTime, errorNotice, figure, h, heading, INSUFFICIENT, render, time } from "./ui.mjs";

const REFRESH_MS = 15000;
const OUTCOME = { granted: "准予许可", denied: "不予许可", refused: "不予受理" };
// The figures the board shows; what each divides by what comes with the board (board.figures).
const STATS = [["on_time_rate", "按时办结率"], ["online_rate", "网办率"], ["satisfaction_rate", "满意率"],
  ["very_satisfied_rate", "非常满意率"]];
const COLUMNS = [["onboarding_rate", "入驻率"], ["online_rate", "网办率"], ["on_time_rate", "按时办结率"],
  ["step_on_time_rate", "环节按时办结率"], ["satisfaction_rate", "满意率"], ["very_satisfied_rate", "非常满意率"],
  ["hotline_answer_rate", "12345办结率"]];
const UNIT = { case: "件", application: "件", step: "个环节", rating: "条评价", hotline_request: "件", power: "项" };

export async function boardPage(main, ctx) {
  const updated = h("span", { class: "small muted", id: "board-updated" });
  const error = h("div");
  const stats = h("ul", { class: "stats", "aria-label": "本月概况" });
  const recent = h("div", { id: "board-recent" });
  const chartBox = h("div", { class: "chart-canvas" });
  const chartTable = h("div");
  const chartNote = h("p", { class: "small muted" });
  const ranking = h("div", { id: "board-ranking" });
  const help = h("div", { id: "board-help" });
  const month = h("span");
  render(main,
    crumbs(["首页", "#/guide"], ["政务公开"]),
    heading("政务公开"),
    h("p", { class: "spread" }, h("span", { class: "live-dot" }, "实时更新"), updated),
    h("p", { class: "lead" }, "办件结果、群众满意度和部门绩效排名依法公开，接受社会监督。申请人姓名已脱敏。"),
    error, stats,
    h("section", { "aria-labelledby": "recent-title" }, h("h2", { id: "recent-title" }, "最近办结"), recent),
    h("section", { "aria-labelledby": "sat-title" }, h("h2", { id: "sat-title" }, "群众满意度走势（近 30 天）"),
      h("figure", { class: "chart", style: "margin:0" }, h("figcaption", null, "每日满意率（基本满意及以上的评价占比）与非常满意率"),
        chartBox, chartNote, h("details", null, h("summary", null, "以表格查看数据"), chartTable))),
    h("section", { "aria-labelledby": "rank-title" }, h("h2", { id: "rank-title" }, "部门绩效排名 ", month), ranking),
    h("section", { "aria-labelledby": "help-title" }, h("details", null,
      h("summary", null, h("h2", { id: "help-title", style: "display:inline" }, "说明：各项指标的计算方法")), help)));

  let chart = null;
  let stopped = false;
  ctx.onLeave(() => { stopped = true; chart?.then((made) => made?.destroy()); });

  async function load() {
    try {
      const board = await get("/public/board");
      if (stopped) return;
      render(error);
      show(board);
      updated.textContent = `更新于 ${dateTime(new Date().toISOString())}，每 15 秒自动刷新`;
    } catch (problem) {
      if (!stopped) render(error, errorNotice(problem, "数据刷新失败，将自动重试"));
    }
  }

  function show(board) {
    const totals = board.totals || {};
    const rated = board.satisfaction.filter((d) => d.ratings);
    const score = (d) => figure(d, "composite");
    render(stats,
      stat("近 7 天办结", board.recent.length >= 20 ? "20+" : board.recent.length),
      ...STATS.map(([key, label]) => stat(label, figure(totals, key))));
    render(recent, board.recent.length ? h("div", { class: "table-wrap" }, h("table", { class: "stacked" },
      h("caption", { class: "visually-hidden" }, "最近办结的办件"),
      h("thead", null, h("tr", null, ["受理编号", "事项", "办理大厅", "申请人", "结果", "办结时间"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, board.recent.map((c) => h("tr", { "data-case-no": c.case_no },
        h("td", { class: "mono", "data-label": "受理编号" }, c.case_no), h("td", { "data-label": "事项" }, c.item_name),
        h("td", { "data-label": "办理大厅" }, c.hall), h("td", { class: "applicant", "data-label": "申请人" }, c.applicant),
        h("td", { "data-label": "结果" }, OUTCOME[c.outcome] || c.outcome || "—"),
        h("td", { "data-label": "办结时间" }, time(c.completed_at)))))))
      : h("p", { class: "muted" }, "近 7 天暂无办结的办件。"));

    month.textContent = `（${board.month}）`;
    const minimum = board.min_sample ?? 0;
    render(ranking, h("div", { class: "table-wrap" }, h("table", null,
      h("caption", { class: "visually-hidden" }, `${board.month} 部门绩效排名`),
      h("thead", null, h("tr", null, h("th", { scope: "col", class: "num" }, "排名"), h("th", { scope: "col" }, "部门"),
        h("th", { scope: "col", class: "num" }, "综合得分"),
        ...COLUMNS.map(([, label]) => h("th", { scope: "col", class: "num" }, label)),
        h("th", { scope: "col", class: "num" }, "办结件数"))),
      h("tbody", null, board.departments.map((d) => h("tr", { "data-department": d.subject },
        h("td", { class: "num" }, d.rank ?? "—"), h("th", { scope: "row" }, d.name),
        h("td", { class: "num", "data-figure": "composite" }, score(d)),
        ...COLUMNS.map(([key]) => h("td", { class: "num", "data-figure": key }, figure(d, key))),
        h("td", { class: "num" }, d.completed ?? 0)))))),
      h("p", { class: "small muted" }, `未排名（—）：本月尚无可计分的办件。${INSUFFICIENT}：少于 ${minimum} 件（条）的数据不计算比率和得分。`));
    render(help, h("dl", { class: "figures" }, (board.figures || []).flatMap((f) => [
      h("dt", { "data-figure": f.key }, f.name),
      h("dd", null, `${f.numerator} ÷ ${f.denominator}`,
        f.sampled ? `；少于 ${minimum} ${UNIT[f.per] || "件"}时显示“${INSUFFICIENT}”。` : "；按权力清单计算，不受样本数限制。")])));
    chartNote.textContent = rated.length
      ? `近 30 天共 ${rated.reduce((s, d) => s + d.ratings, 0)} 条评价；无评价或评价少于 ${board.min_sample ?? 0} 条（${INSUFFICIENT}）的日期不计满意率。`
      : "近 30 天暂无评价。";
    render(chartTable, h("div", { class: "table-wrap" }, h("table", null,
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "日期"), h("th", { scope: "col", class: "num" }, "评价数"), h("th", { scope: "col", class: "num" }, "满意率"), h("th", { scope: "col", class: "num" }, "非常满意率"))),
      h("tbody", null, board.satisfaction.map((d) => h("tr", null, h("td", null, d.day), h("td", { class: "num" }, d.ratings),
        h("td", { class: "num" }, figure({ ...d, satisfaction_rate: d.rate }, "satisfaction_rate")),
        h("td", { class: "num" }, figure(d, "very_satisfied_rate"))))))));
    const days = board.satisfaction.map((d) => d.day);
    const asPercent = (rate) => (rate == null ? null : Math.round(rate * 1000) / 10);
    const series = [{ label: "满意率", color: "#0d6b32", values: board.satisfaction.map((d) => asPercent(d.rate)) },
      { label: "非常满意率", color: "#2b7bb9", values: board.satisfaction.map((d) => asPercent(d.very_satisfied_rate)) }];
    if (chart) {
      chart.then((made) => made?.update(days, series));
    } else {
      chart = import("./charts.mjs").then(({ dayChart }) => dayChart(chartBox, { days, series, yRange: [0, 100],
        yFormat: (v) => `${v}%`, label: "近 30 天每日满意率、非常满意率折线图" })).then((made) => {
        if (stopped) made.destroy();
        return made;
      }).catch((problem) => { render(chartBox, errorNotice(problem, "图表加载失败")); chart = null; return null; });
    }
  }

  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}

function stat(label, value) {
  return h("li", { class: "stat" }, h("span", { class: "v" }, value), h("span", { class: "k" }, label));
}
