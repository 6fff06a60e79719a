// 电子监察: the supervision office's board. A supervision office's staff member signs in as themself
// (the staff user pool, then the staff identity pool's short-lived credentials, which stay in this
// tab's sessionStorage only); every request is signed with them (SigV4, service execute-api).
import { AwsClient } from "/web/vendor/aws4fetch.esm.mjs";
import { ApiError, readAnswer, reference } from "./api.mjs";
import { credentialsFor, passwordLogin } from "./workstation-session.mjs";
import { appealForm, clipForm, hallName, LONGEST_MINUTES, orderForm, pendingAppeal, refusalNotice, reportLinks } from "./supervise-actions.mjs";
import {
  actionLabel, actorLabel, bytes, chinaDay, chinaMonth, crumbs, dateTime, emptyState, errorNotice, field, fieldError,
  figure, h, heading, hashQuery, lightBadge, render, time,
} from "./ui.mjs";

const KEY = "bz.staffSession";
const TABS = [
  ["overview", "监察总览", "#/supervise"],
  ["cards", "红黄牌", "#/supervise/cards"],
  ["orders", "督办单", "#/supervise/orders"],
  ["trace", "办件追溯", "#/supervise/trace"],
  ["complaints", "投诉证据", "#/supervise/complaints"],
  ["footage", "调取录像", "#/supervise/footage"],
  ["appeals", "评价申诉", "#/supervise/appeals"],
];
const KINDS = {
  yellow: "黄灯预警", red: "红灯超期", escalation: "超期升级", reminder: "催办", reprimand: "通报批评",
  clip_pulled: "调取录像",
};
const RULES = {
  refused_without_valid_reason: "无正当理由不予受理", exceeded_promised_limit: "超承诺时限办结",
  step_over_its_limit: "环节超时", pre_review_late: "预审超时", decided_without_reasons: "不予受理或不予许可未说明理由",
  off_system_handling: "体外循环", fee_above_standard: "超标准收费", not_one_time_notice: "未一次性告知",
  outside_power_list: "超权力清单办理",
};
const TASK_KINDS = { order: "督办单", investigation: "投诉调查", rectification: "差评整改", enquiry: "12345咨询件",
  hotline_complaint: "12345投诉件", consultation: "网上咨询" };

// The signed-in staff member's credentials, while they are valid (they last an hour).
function keys() {
  try {
    const k = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return k?.id && k?.secret && k?.token && k.expires * 1000 > Date.now() + 30_000 ? k : null;
  } catch {
    return null;
  }
}

// The workstation's sign-in (the staff user pool, then the identity pool), kept apart in this tab.
async function signInStaff(staffId, password) {
  const c = await credentialsFor((await passwordLogin(staffId, password)).logins);
  sessionStorage.setItem(KEY, JSON.stringify({ staff: staffId, id: c.AccessKeyId, secret: c.SecretKey,
    token: c.SessionToken, expires: c.Expiration }));
}

let client = null;
async function signedGet(path) {
  return signed("GET", path);
}

async function signedPost(path, body, headers = {}) {
  return signed("POST", path, body, headers);
}

// The board's signed calls, and what it knows of the halls (names; the office's own scope).
const api = { get: signedGet, post: signedPost, file: signedFile };
let scopeHalls = [];
async function actionContext() {
  if (!scopeHalls.length) {
    const since = new Date(Date.now() + 86400000).toISOString();     // no events: only the halls
    scopeHalls = (await signedGet(`/audit/cards?since=${encodeURIComponent(since)}&limit=1`).catch(() => ({ halls: [] }))).halls;
  }
  const [halls, departments] = await Promise.all([reference.hallNames().catch(() => ({})),
    reference.departmentNames().catch(() => ({}))]);
  return { halls, departments, scope: scopeHalls };
}

async function signed(method, path, body, headers = {}, raw = false) {
  const k = keys();
  if (!k) throw new ApiError(403, { message: "请先以监察室工作人员身份登录" });
  if (!client || client.accessKeyId !== k.id || client.sessionToken !== k.token) {
    const { staff } = await reference.config();
    client = new AwsClient({ accessKeyId: k.id, secretAccessKey: k.secret, sessionToken: k.token,
      service: "execute-api", region: staff.region, retries: 0 });
  }
  let response;
  try {
    response = await client.fetch(`${location.origin}${path}`, body === undefined ? { method }
      : { method, body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } });
  } catch {
    throw new ApiError(0, null);
  }
  if (raw && response.ok) return response;
  return readAnswer(response);
}

// A signed download (the monthly report): its body as a Blob.
async function signedFile(path) {
  return (await signed("GET", path, undefined, {}, true)).blob();
}

function kindLabel(kind) {
  if (!kind) return "—";
  if (kind.startsWith("violation:")) return `违规：${RULES[kind.slice(10)] || kind.slice(10)}`;
  if (kind.startsWith("escalation")) return "超期升级";
  return KINDS[kind] || kind;
}

export async function supervisePage(main, ctx) {
  const tab = ctx.params[0] || "overview";
  if (!keys()) {
    signInView(main, ctx);
    return;
  }
  const body = h("div", { id: "supervise-body" }, h("p", { class: "loading", role: "status" }, "正在加载…"));
  const signOut = h("button", { type: "button", class: "btn secondary small" }, "退出监察平台");
  signOut.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    client = null;
    scopeHalls = [];
    if (location.hash === "#/supervise") supervisePage(main, ctx);
    else location.hash = "#/supervise";
  });
  const current = TABS.find((t) => t[0] === tab) || TABS[0];
  render(main,
    crumbs(["首页", "#/guide"], ["电子监察", "#/supervise"], [current[1]]),
    h("div", { class: "spread" }, heading(`电子监察 · ${current[1]}`), signOut),
    h("nav", { "aria-label": "监察功能" }, h("ul", { class: "subnav" }, TABS.map(([name, label, href]) =>
      h("li", null, h("a", { href, "aria-current": name === tab ? "page" : null }, label))))),
    body);
  const views = { overview, cards, orders, trace, complaints, footage, appeals };
  try {
    await (views[tab] || overview)(body, ctx);
  } catch (error) {
    if (error.status === 403) {
      render(body, errorNotice(error, "登录已失效或无权访问"), h("p", null, "请退出后以监察室工作人员的工号重新登录。"));
      return;
    }
    throw error;
  }
}

function signInView(main, ctx) {
  const id = h("input", { type: "text", name: "staff_id", autocomplete: "username", spellcheck: "false" });
  const secret = h("input", { type: "password", name: "password", autocomplete: "current-password", spellcheck: "false" });
  const idField = field({ label: "工号", control: id, required: true });
  const secretField = field({ label: "密码", control: secret, required: true });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "登录监察平台");
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" }, idField, secretField,
    h("div", { class: "actions" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(idField, id.value.trim() ? null : "请填写工号");
    fieldError(secretField, secret.value ? null : "请填写密码");
    if (!id.value.trim() || !secret.value) return;
    if (!globalThis.crypto?.subtle) {
      render(status, errorNotice({ message: "签名需要浏览器的 WebCrypto，请通过 HTTPS 访问本平台" }, "无法登录"));
      return;
    }
    submit.disabled = true;
    render(status, h("p", { role: "status" }, "正在登录…"));
    try {
      await signInStaff(id.value.trim(), secret.value);
      await signedGet("/audit/tasks?kind=order&limit=1");
      supervisePage(main, ctx);
    } catch (error) {
      sessionStorage.removeItem(KEY);
      render(status, errorNotice(error, "登录失败"));
    } finally {
      submit.disabled = false;
    }
  });
  render(main, crumbs(["首页", "#/guide"], ["电子监察"]), heading("电子监察平台登录"),
    h("p", { class: "lead" }, "供各级政务服务中心纪检监察组工作人员使用。请以本人工号登录，所有操作以本人身份留痕。"),
    h("p", { class: "notice" }, "登录后获得的临时凭证（一小时内有效）仅保存在本浏览器标签页的会话存储中，关闭标签页即清除。"),
    form);
}

// -- helpers --------------------------------------------------------------------------------------
function scoreRows(scores, kind) {
  if (scores.scope === "all") return scores[kind] || [];
  return Object.values(scores.halls || {}).flatMap((p) => p[kind] || []);
}

function lightOf(events, openTasks) {
  const lights = [...events.map((e) => e.light), ...openTasks.map((t) => t.light)];
  if (lights.includes("red")) return "red";
  if (lights.includes("yellow")) return "yellow";
  return "green";
}

function daysBack(n) {
  const out = [];
  for (let i = n - 1; i >= 0; i -= 1) out.push(chinaDay(new Date(Date.now() - i * 86400000)));
  return out;
}

async function trendChart(container, events, days = 30) {
  const labels = daysBack(days);
  const index = new Map(labels.map((d, i) => [d, i]));
  const red = labels.map(() => 0);
  const yellow = labels.map(() => 0);
  for (const e of events) {
    const i = index.get(chinaDay(new Date(e.at)));
    if (i === undefined) continue;
    if (e.light === "red") red[i] += 1;
    else if (e.light === "yellow") yellow[i] += 1;
  }
  const table = h("details", null, h("summary", null, "以表格查看数据"), h("div", { class: "table-wrap" }, h("table", null,
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "日期"), h("th", { scope: "col", class: "num" }, "红牌/红灯"), h("th", { scope: "col", class: "num" }, "黄牌/黄灯"))),
    h("tbody", null, labels.map((d, i) => (red[i] || yellow[i]) ? h("tr", null, h("td", null, d), h("td", { class: "num" }, red[i]), h("td", { class: "num" }, yellow[i])) : null)))));
  const canvas = h("div", { class: "chart-canvas" });
  render(container, h("figure", { class: "chart", style: "margin:0" },
    h("figcaption", null, `每日亮灯数（近 ${days} 天）：红 ${red.reduce((a, b) => a + b, 0)}，黄 ${yellow.reduce((a, b) => a + b, 0)}`),
    canvas, table));
  const { dayChart } = await import("./charts.mjs");
  return dayChart(canvas, { days: labels, label: "每日红灯与黄灯数量柱状图", integer: true, series: [
    { label: "红牌/红灯", color: "#a3121b", values: red, bars: true },
    { label: "黄牌/黄灯", color: "#b57600", values: yellow, bars: true },
  ] });
}

function keepChart(ctx, promise) {
  ctx.onLeave(() => promise.then((c) => c?.destroy()).catch(() => {}));
  return promise.catch(() => null);
}

function statItem(label, value, tone) {
  return h("li", { class: "stat" }, h("span", { class: "v", style: tone ? `color:var(--${tone})` : null }, value), h("span", { class: "k" }, label));
}

// -- 总览: lights per department and window, trend ----------------------------------------------------
/** Every page of a list from its first (`limit` a page), following next_cursor, at most `pages`
 * pages: { items, more } (more: a cursor left when the cap stopped it). */
async function pagesOf(path, key, { limit = 200, pages = 10 } = {}) {
  const join = path.includes("?") ? "&" : "?";
  let answer = await signedGet(`${path}${join}limit=${limit}`);
  const first = answer;
  let items = answer[key] || [];
  for (let n = 1; answer.next_cursor && n < pages; n += 1) {
    answer = await signedGet(`${path}${join}limit=${limit}&cursor=${encodeURIComponent(answer.next_cursor)}`);
    items = items.concat(answer[key] || []);
  }
  return { ...first, [key]: items, more: answer.next_cursor || null };
}

async function overview(body, ctx) {
  const month = h("input", { type: "month", name: "period", value: ctx.query.get("period") || chinaMonth() });
  // Only what the page shows: the cards since the month on screen began (or the trend's 30 days,
  // if earlier), page by page; the open supervised tasks' newest pages.
  const shownFrom = Math.min(Date.parse(`${month.value}-01T00:00:00+08:00`), Date.now() - 30 * 86400000);
  const since = new Date(Number.isFinite(shownFrom) ? shownFrom : Date.now() - 30 * 86400000).toISOString();
  const [cardList, taskPage, departments, hallNames] = await Promise.all([
    pagesOf(`/audit/cards?since=${encodeURIComponent(since)}`, "events"),
    pagesOf("/audit/tasks", "tasks", { pages: 5 }), reference.departments(), reference.hallNames().catch(() => ({}))]);
  scopeHalls = cardList.halls;
  let scores = null;
  let scoreError = null;
  try {
    scores = await signedGet(`/audit/scores?period=${encodeURIComponent(month.value)}`);
  } catch (error) {
    scoreError = error;
  }
  if (!ctx.alive()) return;
  const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
  // The city's office reads one compilation with its totals; a district's, one per hall.
  const totals = scores?.scope === "all" ? scores.totals
    : Object.keys(scores?.halls || {}).length === 1 ? Object.values(scores.halls)[0].totals : null;
  const monthStart = Date.parse(`${month.value}-01T00:00:00+08:00`);
  const [y, m] = month.value.split("-").map(Number);
  const monthEnd = Date.parse(`${m === 12 ? y + 1 : y}-${String(m === 12 ? 1 : m + 1).padStart(2, "0")}-01T00:00:00+08:00`);
  const events = cardList.events.filter((e) => { const t = Date.parse(e.at); return t >= monthStart && t < monthEnd; });
  const open = taskPage.tasks.filter((t) => t.status === "open");
  const deptRows = departments.map((d) => {
    const mine = events.filter((e) => e.department === d.code);
    const tasks = open.filter((t) => t.department === d.code);
    const score = scores ? scoreRows(scores, "departments").find((s) => s.subject === d.code) : null;
    return { code: d.code, name: d.name, light: lightOf(mine, tasks), red: mine.filter((e) => e.light === "red").length,
      yellow: mine.filter((e) => e.light === "yellow").length, open: tasks.length, score };
  }).sort((a, b) => ({ red: 0, yellow: 1, green: 2 }[a.light] - { red: 0, yellow: 1, green: 2 }[b.light]) || (b.red - a.red));
  const windowCodes = new Map();
  for (const d of departments) for (const w of d.windows) windowCodes.set(w.code, { ...w, department: d.code });
  const windowRows = [...windowCodes.values()].map((w) => {
    const mine = events.filter((e) => e.window === w.code);
    const score = scores ? scoreRows(scores, "windows").find((s) => s.subject === w.code) : null;
    return { ...w, light: lightOf(mine, []), red: mine.filter((e) => e.light === "red").length,
      yellow: mine.filter((e) => e.light === "yellow").length, score };
  }).filter((w) => w.red || w.yellow || w.score?.applications || w.score?.completed)
    .sort((a, b) => b.red - a.red || b.yellow - a.yellow);

  const periodForm = h("form", { class: "period-form", "aria-label": "统计周期" }, h("label", { for: "sup-period" }, "统计月份"), month,
    h("button", { class: "btn secondary small", type: "submit" }, "查看"));
  month.id = "sup-period";
  periodForm.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/supervise?period=${month.value}`;
  });
  const chartBox = h("div");
  render(body,
    h("p", { class: "muted", id: "supervise-scope" }, `监察范围：${cardList.halls.map((c) => hallName(hallNames, c)).join("、")}（本级及下级大厅）`),
    periodForm,
    h("section", { "aria-labelledby": "report-title" }, h("h2", { id: "report-title" }, `月度绩效报告（${month.value}）`),
      reportLinks(api, { period: () => month.value, context: { halls: hallNames, scope: cardList.halls } })),
    h("ul", { class: "stats", "aria-label": "本月概况" },
      statItem("红牌 / 红灯", events.filter((e) => e.light === "red").length, "bad"),
      statItem("黄牌 / 黄灯", events.filter((e) => e.light === "yellow").length, "warn"),
      statItem("违规发现", events.filter((e) => e.kind?.startsWith("violation:")).length),
      statItem("未办结督办件", open.length),
      statItem("按时办结率", figure(totals, "on_time_rate")),
      statItem("满意率", figure(totals, "satisfaction_rate"))),
    h("section", { "aria-labelledby": "dept-lights" }, h("h2", { id: "dept-lights" }, `部门亮灯（${month.value}）`),
      h("div", { class: "table-wrap" }, h("table", { id: "department-lights" },
        h("thead", null, h("tr", null, ["部门", "亮灯", "红", "黄", "未办结督办", "综合得分", "排名", "按时办结率", "满意率"].map((t, i) =>
          h("th", { scope: "col", class: i > 1 ? "num" : null }, t)))),
        h("tbody", null, deptRows.map((r) => h("tr", { "data-department": r.code },
          h("th", { scope: "row" }, h("a", { href: `#/supervise/cards?department=${r.code}` }, r.name)),
          h("td", null, lightBadge(r.light)),
          h("td", { class: "num" }, r.red), h("td", { class: "num" }, r.yellow), h("td", { class: "num" }, r.open),
          h("td", { class: "num" }, figure(r.score, "composite")),
          h("td", { class: "num" }, r.score?.rank ?? "—"),
          h("td", { class: "num" }, figure(r.score, "on_time_rate")), h("td", { class: "num" }, figure(r.score, "satisfaction_rate")))))))),
    scoreError ? errorNotice(scoreError, "绩效数据暂不可用") : null,
    h("section", { "aria-labelledby": "window-lights" }, h("h2", { id: "window-lights" }, "窗口亮灯"),
      windowRows.length ? h("div", { class: "table-wrap" }, h("table", { id: "window-lights-table" },
        h("thead", null, h("tr", null, ["窗口", "部门", "亮灯", "红", "黄", "办结", "综合得分"].map((t, i) =>
          h("th", { scope: "col", class: i > 2 ? "num" : null }, t)))),
        h("tbody", null, windowRows.map((w) => h("tr", { "data-window": w.code },
          h("th", { scope: "row" }, `${w.name}（${w.code}）`), h("td", null, names[w.department] || w.department),
          h("td", null, lightBadge(w.light)), h("td", { class: "num" }, w.red), h("td", { class: "num" }, w.yellow),
          h("td", { class: "num" }, w.score?.completed ?? 0),
          h("td", { class: "num" }, figure(w.score, "composite")))))))
        : h("p", { class: "muted" }, "本月各窗口暂无办件和亮灯。")),
    h("section", { "aria-labelledby": "trend-title" }, h("h2", { id: "trend-title" }, "亮灯趋势"), chartBox));
  keepChart(ctx, trendChart(chartBox, cardList.events));
}

// -- 红黄牌: the card list with filters -----------------------------------------------------------------
const CARDS_PAGE = 50;
async function cards(body, ctx) {
  const query = hashQuery();
  const [departments, context] = await Promise.all([reference.departments(), actionContext()]);
  const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
  const department = h("select", { name: "department" }, h("option", { value: "" }, "全部部门"),
    departments.map((d) => h("option", { value: d.code, selected: query.get("department") === d.code }, d.name)));
  const light = h("select", { name: "light" }, h("option", { value: "" }, "全部"),
    h("option", { value: "red", selected: query.get("light") === "red" }, "红（红灯、红牌）"),
    h("option", { value: "yellow", selected: query.get("light") === "yellow" }, "黄（黄灯、黄牌）"));
  const kind = h("select", { name: "kind" }, h("option", { value: "" }, "全部类型"),
    Object.entries(KINDS).map(([k, v]) => h("option", { value: k, selected: query.get("kind") === k }, v)),
    h("optgroup", { label: "违规发现" }, Object.entries(RULES).map(([k, v]) =>
      h("option", { value: `violation:${k}`, selected: query.get("kind") === `violation:${k}` }, v))));
  const form = h("form", { class: "card", "aria-label": "筛选" }, h("div", { class: "filters" },
    field({ label: "部门", control: department }), field({ label: "灯色", control: light }), field({ label: "类型", control: kind })),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "筛选")));
  const count = h("p", { role: "status", id: "cards-count" });
  const list = h("div");
  const chartBox = h("div");
  // The list shows the chart's 30 days, newest first, a page at a time: 加载更多 follows next_cursor.
  const more = h("button", { type: "button", class: "btn secondary small", id: "cards-more" }, "加载更多");
  more.hidden = true;
  render(body, form, chartBox, h("section", { "aria-labelledby": "cards-title" }, h("h2", { id: "cards-title" }, "监察记录"), count, list,
    h("div", { class: "actions" }, more)));
  let chart = null;
  let events = [];
  let next = null;
  let asked = "";
  ctx.onLeave(() => chart?.then((c) => c?.destroy()));

  function show() {
    count.textContent = `近 30 天共载入 ${events.length} 条${next ? "（还有更多，可加载）" : ""}`;
    render(list, events.length ? h("ul", { class: "cards" }, events.map((e) => cardItem(e, names, context)))
      : emptyState("没有符合条件的记录。"));
    more.hidden = !next;
    chart?.then((c) => c?.destroy());
    chart = keepChart(ctx, trendChart(chartBox, events));
  }
  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of [["department", department.value], ["light", light.value], ["kind", kind.value]]) if (v) params.set(k, v);
    params.set("since", new Date(Date.now() - 30 * 86400000).toISOString());
    params.set("limit", String(CARDS_PAGE));
    asked = params.toString();
    count.textContent = "正在加载…";
    const answer = await signedGet(`/audit/cards?${asked}`);
    if (!ctx.alive()) return;
    events = answer.events;
    next = answer.next_cursor || null;
    show();
  }
  more.addEventListener("click", async () => {
    if (!next) return;
    try {
      const answer = await signedGet(`/audit/cards?${asked}&cursor=${encodeURIComponent(next)}`);
      if (!ctx.alive()) return;
      events = events.concat(answer.events);
      next = answer.next_cursor || null;
      show();
    } catch (error) {
      render(list, errorNotice(error, "加载失败"));
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of [["department", department.value], ["light", light.value], ["kind", kind.value]]) if (v) params.set(k, v);
    history.replaceState(null, "", `#/supervise/cards${params.toString() ? `?${params}` : ""}`);
    load().catch((error) => render(list, errorNotice(error, "加载失败")));
  });
  await load();
}

function cardItem(e, names, context = null) {
  const isCase = ["step", "case", "violation"].includes(e.scope);
  // An order on the card: the card's department is addressed (a case's card, or a task's).
  const act = context && e.event_id && e.case_id ? h("details", { class: "card-order" },
    h("summary", null, "下达督办单"),
    orderForm(api, { target: { card: { case_id: e.case_id, event_id: e.event_id } }, context })) : null;
  return h("li", { class: `sup-card l-${e.light || "none"}`, "data-kind": e.kind, "data-department": e.department || "",
    "data-case-no": e.case_no || "" },
  h("p", { class: "row" }, e.light ? lightBadge(e.light, e.card || e.light === "red" ? "牌" : "灯") : h("span", { class: "badge grey" }, "记录"),
    h("strong", null, e.title ? `违规：${e.title}` : kindLabel(e.kind)), e.task ? h("span", null, `· ${e.task}`) : null),
  h("p", null, e.hall && context ? `大厅：${hallName(context.halls, e.hall)} · ` : "",
    `部门：${e.department_name || names[e.department] || e.department || "—"}${e.window ? ` · 窗口 ${e.window_name || e.window}` : ""}`,
    e.staff_id ? ` · 经办人 ${e.staff_name || ""}（${e.staff_id}）` : "", e.chief_staff_id ? ` · 首席代表 ${e.chief_name || ""}（${e.chief_staff_id}）` : ""),
  e.case_no || isCase ? h("p", null, "办件：", e.case_no || e.case_id, " ",
    isCase ? h("a", { href: `#/supervise/trace?case=${e.case_id}` }, "全程追溯") : null) : null,
  e.task_id && !isCase ? h("p", null, `督办件：${e.task_id}`, e.task_kind === "investigation"
    ? h("span", null, " ", h("a", { href: `#/supervise/complaints?task=${e.task_id}` }, "查看证据")) : null) : null,
  h("p", { class: "small muted" }, "发生：", time(e.at), e.deadline ? h("span", null, " · 期限：", time(e.deadline)) : null,
    e.delay_seconds != null ? ` · 触发偏差 ${Number(e.delay_seconds).toFixed(1)} 秒` : ""), act);
}

// -- 督办单 -------------------------------------------------------------------------------------------
async function orders(body, ctx) {
  const context = await actionContext();
  if (!ctx.alive()) return;
  const list = h("div", { id: "orders-list" });
  const issue = orderForm(api, { context,
    onIssued: () => orderList(list, ctx, context).catch((error) => render(list, errorNotice(error, "加载失败"))) });
  render(body, h("section", { "aria-labelledby": "new-order" }, h("h2", { id: "new-order" }, "下达督办单"), issue), list);
  await orderList(list, ctx, context);
}

async function orderList(list, ctx, context) {
  const [orderPage, all] = await Promise.all([signedGet("/audit/tasks?kind=order"), signedGet("/audit/tasks")]);
  if (!ctx.alive()) return;
  const departments = context.departments;
  const byKind = {};
  for (const t of all.tasks) {
    const k = (byKind[t.kind] ||= { total: 0, open: 0, red: 0 });
    k.total += 1;
    if (t.status === "open") k.open += 1;
    if (t.light === "red") k.red += 1;
  }
  const rows = orderPage.tasks;                    // newest first, as the list answers
  render(list,
    h("section", { "aria-labelledby": "orders-title" }, h("h2", { id: "orders-title" }, `督办单（${orderPage.count}）`),
      rows.length ? h("div", { class: "table-wrap" }, h("table", { id: "orders-table", class: "stacked" },
        h("thead", null, h("tr", null, ["督办单号", "大厅", "承办部门", "督办事由", "下达", "办理期限", "状态", "亮灯"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, rows.map((t) => h("tr", { "data-task": t.task_id },
          h("td", { class: "mono", "data-label": "督办单号" }, t.task_id),
          h("td", { "data-label": "大厅" }, hallName(context.halls, t.hall)),
          h("td", { "data-label": "承办部门" }, departments[t.department] || t.department),
          h("td", { "data-label": "督办事由" }, h("div", null, t.subject?.text || "—", t.subject?.case_id ? h("div", { class: "small" },
            h("a", { href: `#/supervise/trace?case=${t.subject.case_id}` }, "追溯办件")) : null)),
          h("td", { "data-label": "下达" }, time(t.opened_at)),
          h("td", { "data-label": "办理期限" }, h("div", null, time(t.deadline), h("div", { class: "small muted" }, `${t.limit_days} 个工作日`))),
          h("td", { "data-label": "状态" }, t.status === "open" ? "办理中" : `已答复 ${dateTime(t.answered_at)}`),
          h("td", { "data-label": "亮灯" }, lightBadge(t.light))))))) : emptyState("暂无督办单。")),
    h("section", { "aria-labelledby": "tasks-title" }, h("h2", { id: "tasks-title" }, "全部督办件"),
      h("div", { class: "table-wrap" }, h("table", null,
        h("thead", null, h("tr", null, ["类型", "总数", "办理中", "红灯"].map((t, i) => h("th", { scope: "col", class: i ? "num" : null }, t)))),
        h("tbody", null, Object.entries(TASK_KINDS).map(([k, label]) => h("tr", null, h("th", { scope: "row" }, label),
          h("td", { class: "num" }, byKind[k]?.total || 0), h("td", { class: "num" }, byKind[k]?.open || 0),
          h("td", { class: "num" }, byKind[k]?.red || 0))))))));
}

// -- 办件追溯: the full trace and its hash chain -------------------------------------------------------------
async function trace(body, ctx) {
  const caseId = hashQuery().get("case") || "";
  const input = h("input", { type: "text", name: "case", value: caseId, spellcheck: "false", autocomplete: "off" });
  const form = h("form", { class: "card", novalidate: true },
    field({ label: "办件 ID 或受理编号", control: input,
      hint: "32 位办件标识，或申请人看到的受理编号（如 BZ-20261130-00001）；也可从红黄牌记录的“全程追溯”进入" }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "追溯并校验")));
  const result = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `#/supervise/trace?case=${encodeURIComponent(input.value.trim())}`);
    show(input.value.trim());
  });
  render(body, form, result);
  const context = await actionContext();
  const departments = context.departments;

  async function show(id) {
    if (!/^[A-Za-z0-9-]{4,64}$/.test(id)) {
      render(result, errorNotice({ message: "请填写办件 ID 或受理编号" }, "无法追溯"));
      return;
    }
    render(result, h("p", { role: "status" }, "正在校验哈希链…"));
    try {
      const [trail, supervision] = await Promise.all([signedGet(`/audit/cases/${id}/trail`),
        signedGet(`/audit/cases/${id}/supervision`).catch(() => null)]);
      if (!ctx.alive()) return;
      const v = trail.verdict;
      const caseNo = trail.records.find((r) => r.data?.case_no)?.data.case_no;
      render(result,
        h("section", { class: `card notice ${v.intact ? "ok" : "bad"}`, "aria-labelledby": "verdict-title" },
          h("h2", { id: "verdict-title", class: "verdict", "data-intact": String(v.intact) }, v.intact
            ? `✓ 留痕链完整：已校验 ${v.records} 条记录，哈希链未被篡改`
            : `✕ 留痕链断裂：第 ${v.broken_seq} 条记录校验失败`),
          v.reason ? h("p", null, `原因：${v.reason}`) : null,
          caseNo ? h("p", null, `受理编号：${caseNo}`) : null),
        h("details", { class: "card case-order" }, h("summary", null, "督办此件（下达督办单）"),
          orderForm(api, { target: { case_id: trail.case_id }, context })),
        pendingAppeal(trail.records) ? h("section", { "aria-labelledby": "appeal-title" },
          h("h2", { id: "appeal-title" }, "评价申诉待裁定"),
          appealForm(api, { caseId: trail.case_id, appeal: pendingAppeal(trail.records), context })) : null,
        supervision && (supervision.events.length || supervision.violations.length)
          ? h("section", { "aria-labelledby": "case-sup" }, h("h2", { id: "case-sup" }, "监察事件"),
            h("ul", { class: "cards" }, [...supervision.events, ...supervision.violations].map((e) => cardItem(e, departments, context)))) : null,
        h("section", { "aria-labelledby": "trail-title" }, h("h2", { id: "trail-title" }, `全程留痕（${trail.records.length} 条）`),
          h("div", { class: "table-wrap" }, h("table", { id: "trail-table" },
            h("thead", null, h("tr", null, ["序号", "时间", "动作", "操作者", "内容"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", null, trail.records.map((r) => h("tr", null,
              h("td", { class: "num" }, r.seq), h("td", null, time(r.at)), h("td", null, actionLabel(r.action)),
              h("td", null, actorLabel(r.actor, departments), h("div", { class: "small muted mono" }, r.actor)),
              h("td", { class: "small mono" }, summarise(r.data)))))))));
    } catch (error) {
      render(result, refusalNotice(error, error.status === 404 ? "未找到该办件" : "追溯失败", context));
    }
  }
  if (caseId) await show(caseId);
}

function summarise(data) {
  if (!data || !Object.keys(data).length) return "";
  const text = JSON.stringify(data);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

// -- 投诉证据: complaints and their camera clips ---------------------------------------------------------------
async function complaints(body, ctx) {
  const taskId = hashQuery().get("task");
  const context = await actionContext();
  const departments = context.departments;
  if (taskId) {
    await complaintDetail(body, ctx, taskId, departments, context.halls);
    return;
  }
  const page = await signedGet("/audit/tasks?kind=investigation");
  if (!ctx.alive()) return;
  const tasks = page.tasks;                        // newest first, as the list answers
  render(body, h("section", { "aria-labelledby": "complaints-title" }, h("h2", { id: "complaints-title" }, `投诉调查（${page.count}）`),
    tasks.length ? h("ul", { class: "cards" }, tasks.map((t) => h("li", { class: `sup-card l-${t.light}`, "data-task": t.task_id },
      h("p", { class: "row" }, lightBadge(t.light), h("strong", null, `投诉 ${t.task_id}`), h("span", null, t.status === "open" ? "调查中" : "已答复")),
      h("p", null, `${hallName(context.halls, t.hall)} · 窗口 ${t.subject?.window || "—"} · ${departments[t.department] || t.department} · 到访 ${dateTime(t.subject?.visited_at)}`),
      h("p", null, t.subject?.text || ""),
      h("p", { class: "small muted" }, `办理期限 ${dateTime(t.deadline)} · 录像 ${(t.subject?.evidence || []).length} 段`),
      h("p", null, h("a", { class: "btn secondary small", href: `#/supervise/complaints?task=${t.task_id}` }, `查看证据：${t.task_id}`)))))
      : emptyState("暂无投诉调查。")));
}

async function complaintDetail(body, ctx, taskId, departments, halls = {}) {
  const task = await signedGet(`/audit/tasks/${encodeURIComponent(taskId)}`);
  if (!ctx.alive()) return;
  const clips = task.subject?.evidence || [];
  const trailList = h("ol", { class: "timeline" });
  render(body,
    h("p", null, h("a", { href: "#/supervise/complaints" }, "← 返回投诉列表")),
    h("section", { class: "card", "aria-labelledby": "task-title" },
      h("h2", { id: "task-title" }, `${task.title} ${task.task_id}`),
      h("p", { class: "row" }, lightBadge(task.light), task.status === "open" ? "调查中" : "已答复"),
      h("dl", { class: "facts" },
        fact("大厅", hallName(halls, task.hall)), fact("窗口", task.subject?.window),
        fact("承办部门", departments[task.department] || task.department),
        fact("到访时间", dateTime(task.subject?.visited_at)), fact("办理期限", dateTime(task.deadline)),
        fact("留痕校验", task.verdict?.intact ? `完整（${task.verdict.records} 条）` : `断裂（第 ${task.verdict?.broken_seq} 条）`)),
      h("p", null, `投诉内容：${task.subject?.text || ""}`),
      task.answer ? h("p", null, `部门答复：${task.answer.text}`) : null),
    h("section", { "aria-labelledby": "clips-title" }, h("h2", { id: "clips-title" }, `证据录像（${clips.length} 段）`),
      h("p", { class: "small muted" }, "录像以不可篡改方式保存（对象锁定）。调阅链接 5 分钟内有效，每次调阅都会记入留痕。"),
      h("ul", { class: "cards" }, clips.map((clip, index) => clipItem(task, clip, index, refreshTrail)))),
    h("section", { "aria-labelledby": "task-trail" }, h("h2", { id: "task-trail" }, "督办件留痕"), trailList));
  showTrail(task.trail);

  function showTrail(records) {
    render(trailList, (records || []).map((r) => h("li", { "data-action": r.action }, time(r.at),
      h("strong", null, { opened: "立案", evidence_stored: "证据已封存", evidence_viewed: "调阅录像", answered: "部门答复" }[r.action] || actionLabel(r.action)),
      ` · ${actorLabel(r.actor, departments, { citizen: "投诉人" })}`)));
  }
  async function refreshTrail() {
    try {
      const again = await signedGet(`/audit/tasks/${encodeURIComponent(taskId)}`);
      if (ctx.alive()) showTrail(again.trail);
    } catch { /* the trail stays as it was */ }
  }
}

function clipItem(task, clip, index, onViewed) {
  const player = h("div");
  const label = clip.parts > 1 ? `第 ${clip.part}/${clip.parts} 段` : `${index + 1}`;
  const button = h("button", { type: "button", class: "btn small" }, `调阅录像 ${label}`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    render(player, h("p", { role: "status" }, "正在生成调阅链接…"));
    try {
      const link = await signedGet(`/supervision/tasks/${encodeURIComponent(task.task_id)}/evidence/${index}`);
      const until = new Date(Date.now() + (link.expires_in || 300) * 1000).toISOString();
      render(player,
        h("video", { controls: true, preload: "metadata", src: link.url, "aria-label": `窗口 ${clip.window} 录像 ${label}` }),
        h("p", { class: "small" }, h("a", { href: link.url, target: "_blank", rel: "noopener", class: "evidence-link" }, "在新窗口打开录像"),
          ` · 链接有效至 ${dateTime(until)}（${link.expires_in} 秒）`));
      onViewed?.();
    } catch (error) {
      render(player, errorNotice(error, "调阅失败"));
    } finally {
      button.disabled = false;
    }
  });
  return h("li", { class: "sup-card", "data-clip": String(index) },
    h("p", null, h("strong", null, `录像 ${label}`), ` · 窗口 ${clip.window}（${clip.stream}）`),
    h("p", { class: "small" }, `${dateTime(clip.start)} 至 ${dateTime(clip.end)} · ${bytes(clip.bytes)} · ${clip.content_type}`),
    h("p", { class: "small muted mono" }, `SHA-256 ${clip.sha256}`),
    button, player);
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value ?? "—"));
}

// -- 调取录像: any window of the office's halls, for a period ------------------------------------------------
async function footage(body, ctx) {
  const [context, departments] = await Promise.all([actionContext(), reference.departments()]);
  if (!ctx.alive()) return;
  const windows = departments.flatMap((d) => d.windows.map((w) => ({ ...w, department: d.code })))
    .filter((w) => !w.hall || context.scope.includes(w.hall));
  render(body, h("section", { "aria-labelledby": "footage-title" }, h("h2", { id: "footage-title" }, "调取窗口录像"),
    h("p", { class: "small muted" }, `可调取本监察室监察范围内任一窗口的录像，每次最多 ${LONGEST_MINUTES} 分钟（超过约 6 分钟的录像按时间顺序分段保存，每段各有 SHA-256）；录像以不可篡改方式保存，调取记入监察记录。`),
    clipForm(api, { windows, context })));
}

// -- 评价申诉: the 差评 rectifications; an appeal is decided on the case's trace ---------------------------
async function appeals(body, ctx) {
  const [page, context] = await Promise.all([signedGet("/audit/tasks?kind=rectification"), actionContext()]);
  if (!ctx.alive()) return;
  const tasks = page.tasks;                        // newest first, as the list answers
  render(body, h("section", { "aria-labelledby": "appeals-title" }, h("h2", { id: "appeals-title" }, `差评整改与申诉（${page.count}）`),
    h("p", { class: "small muted" }, "部门对恶意差评提出申诉后，由监察室负责人在办件追溯页裁定。"),
    tasks.length ? h("ul", { class: "cards" }, tasks.map((t) => h("li", { class: `sup-card l-${t.light}`, "data-task": t.task_id },
      h("p", { class: "row" }, lightBadge(t.light), h("strong", null, `差评整改 ${t.task_id}`), h("span", null, t.status === "open" ? "整改中" : "已整改")),
      h("p", null, `${hallName(context.halls, t.hall)} · ${context.departments[t.department] || t.department}`),
      t.subject?.case_id ? h("p", null, h("a", { href: `#/supervise/trace?case=${t.subject.case_id}` }, `查看办件并裁定申诉：${t.subject.case_no || t.subject.case_id}`)) : null)))
      : emptyState("暂无差评整改。")));
}
