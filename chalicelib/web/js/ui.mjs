// DOM helpers, formatting in China time, lights and status labels shared by every page.

/** h("p", {class: "x", onclick: fn}, "text", child) → an element. Attributes set to null, undefined
 * or false are left out; `true` sets an empty attribute; on* functions become listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        el.addEventListener(name.slice(2).toLowerCase(), value);
      } else if (name === "class") {
        el.className = value;
      } else if (name === "dataset") {
        Object.assign(el.dataset, value);
      } else if (name === "value" && "value" in el) {
        el.value = value;
      } else if (name === "checked" || name === "selected" || name === "disabled") {
        el[name] = Boolean(value);
        if (value) el.setAttribute(name, "");
      } else {
        el.setAttribute(name, value === true ? "" : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Tells screen readers something happened (the polite live region). */
export function announce(text) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

/** Sets the page title and returns the page's <h1> (focusable, for moving focus on navigation). */
export function heading(text, extra) {
  document.title = `${text} - 亳州市网上审批及电子监察系统`;
  return h("h1", { tabindex: "-1", ...(extra || {}) }, text);
}

export function crumbs(...links) {
  return h("nav", { class: "crumbs", "aria-label": "当前位置" },
    h("ol", null, links.map(([text, href]) =>
      h("li", null, href ? h("a", { href }, text) : h("span", { "aria-current": "page" }, text)))));
}

let uid = 0;
export function newId(prefix = "id") { uid += 1; return `${prefix}-${uid}`; }

/** A labelled field: label, optional hint, control, slot for its error. */
export function field({ label, control, hint, required, id, wide }) {
  const controlId = id || control.id || newId("f");
  control.id = controlId;
  const hintId = hint ? `${controlId}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  if (required) control.setAttribute("aria-required", "true");
  return h("div", { class: `field${wide ? " wide" : ""}` },
    h("label", { for: controlId }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null,
      required ? h("span", { class: "visually-hidden" }, "（必填）") : null),
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    control);
}

/** Shows an error message under a field (or clears it with text = null). */
export function fieldError(fieldEl, text, errorId) {
  if (!fieldEl) return;
  const control = fieldEl.querySelector("input, select, textarea");
  let msg = fieldEl.querySelector(":scope > .field-error");
  if (!text) {
    fieldEl.classList.remove("invalid");
    if (msg) msg.remove();
    if (control) control.removeAttribute("aria-invalid");
    return;
  }
  fieldEl.classList.add("invalid");
  if (!msg) {
    msg = h("p", { class: "field-error", id: errorId || newId("err") });
    const label = fieldEl.querySelector(":scope > label, :scope > legend, :scope > h3");
    const hint = fieldEl.querySelector(":scope > .hint");
    (hint || label || fieldEl.firstChild)?.after(msg);
  }
  msg.textContent = text;
  for (const c of fieldEl.querySelectorAll("input, select, textarea")) {
    c.setAttribute("aria-invalid", "true");
    const described = (c.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(msg.id)) c.setAttribute("aria-describedby", [...described, msg.id].join(" "));
  }
}

// -- formatting (China time) -------------------------------------------------------------------
const TZ = "Asia/Shanghai";
const dtFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const dFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dtFormat.format(d);
}
export function date(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dFormat.format(d);
}
export function time(iso) {
  return h("time", { datetime: iso || "" }, dateTime(iso));
}
/** Parts of "now" in China time: {year, month, day, hour, minute}. */
export function chinaParts(d = new Date()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(d).map((p) => [p.type, p.value]));
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour === "24" ? "00" : parts.hour, minute: parts.minute };
}
export function chinaMonth(d = new Date()) {
  const p = chinaParts(d);
  return `${p.year}-${p.month}`;
}
export function chinaDay(d = new Date()) {
  const p = chinaParts(d);
  return `${p.year}-${p.month}-${p.day}`;
}
export function percent(rate) {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
}
// A published figure (a rate, or `composite`, the score) of a scorecard: one computed from fewer
// cases than the hall's minimum reads 样本不足, its reason in the tooltip, never a number.
export const INSUFFICIENT = "样本不足";
export function figure(entry, key) {
  const why = entry && entry.insufficient ? entry.insufficient[key] : null;
  if (why) return h("span", { class: "insufficient", title: why }, INSUFFICIENT);
  const value = entry ? entry[key] : null;
  if (key === "composite") return value == null ? "—" : value.toFixed(1);
  return percent(value);
}
export function bytes(n) {
  if (n == null) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
export function yuan(n) {
  return n == null ? "—" : n === 0 ? "免费" : `${Number(n).toFixed(2)} 元`;
}

// -- lights and statuses -----------------------------------------------------------------------
const LIGHTS = {
  green: ["green", "●", "绿灯", "正常"],
  yellow: ["yellow", "▲", "黄灯", "预警"],
  red: ["red", "■", "红灯", "超期"],
};
/** A light as a badge with its colour, a shape and words (never colour alone). */
export function lightBadge(light, extra) {
  const spec = LIGHTS[light];
  if (!spec) return h("span", { class: "badge grey" }, extra || "—");
  return h("span", { class: `badge ${spec[0]}`, "data-light": light },
    h("span", { class: "sym", "aria-hidden": "true" }, spec[1]), `${spec[2]} · ${extra || spec[3]}`);
}
export function lightWord(light) {
  return LIGHTS[light] ? LIGHTS[light][2] : "无";
}

export const CASE_STATUS = {
  draft: ["草稿（未提交）", "grey"],
  submitted: ["已提交，待受理", "blue"],
  correction_requested: ["待补正材料", "yellow"],
  accepted: ["已受理，审批中", "blue"],
  refused: ["不予受理", "red"],
  completed: ["已办结", "green"],
};
export function statusBadge(status) {
  const [text, tone] = CASE_STATUS[status] || [status, "grey"];
  return h("span", { class: `badge ${tone}`, "data-status": status }, text);
}
export const OUTCOMES = {
  accepted: "已受理", refused: "不予受理", approved: "同意", denied: "不予许可", completed: "已办结",
  granted: "准予许可", correction: "补正中",
};
export const CHANNELS = { online: "网上申报", window: "窗口受理", agent: "代办点代办" };
export const DELIVERY = { pickup: "窗口领取", express: "快递送达" };
export const CATEGORIES = ["行政许可", "行政确认", "行政备案", "行政给付", "审核转报", "公共服务"];
export const ITEM_KINDS = { promised: "承诺件", immediate: "即办件" };
export const RATING_LEVELS = [[5, "非常满意"], [4, "满意"], [3, "基本满意"], [2, "不满意"], [1, "非常不满意"]];

const ACTIONS = {
  created: "创建申报", material_announced: "登记材料", material_received: "材料已接收",
  material_rejected: "材料被拒收", submitted: "提交申请", workflow_started: "进入审批流程",
  stage_started: "进入审批阶段", completed: "办结", corrected: "提交补正材料", rated: "评价",
  decision_accept: "窗口受理", decision_refuse: "不予受理", decision_approve: "部门同意",
  decision_deny: "部门不予许可", decision_correction: "一次性告知补正", decision_special_start: "特别程序开始",
  decision_special_end: "特别程序结束", decision_extension_request: "申请延期",
  decision_extension_approve: "批准延期", rated_by_default: "默认好评", rating_appealed: "部门申诉评价",
  rating_appeal_decided: "评价申诉已裁定", rectified: "差评整改完成", rectification_opened: "差评整改已启动",
  supervision_yellow: "监察黄灯预警", supervision_red: "监察红灯（超期）",
};
export function actionLabel(action) {
  if (ACTIONS[action]) return ACTIONS[action];
  if (action.startsWith("supervision_escalation")) return "超期升级督办";
  if (action.startsWith("decision_")) return `部门决定（${action.slice(9)}）`;
  return action;
}
// Who took an action no person took: the system part (chalicelib/domain/trail.py SYSTEM_ACTORS).
const SYSTEM_PARTS = {
  workflow: "审批流程引擎", s3: "材料存储系统", supervision: "电子监察系统",
  evidence: "证据封存系统", default_ratings: "默认好评定时任务",
};
/** The words for a trail's actor; `citizen` names what a citizen is in this trail (申请人, 投诉人). */
export function actorLabel(actor, departments, { citizen = "申请人" } = {}) {
  if (!actor) return "";
  const [role, who] = actor.split(":");
  if (role === "citizen") return citizen;
  if (role === "public") return "来访群众";
  if (role === "hotline") return `12345热线 ${who}`;
  if (role === "department") return departments?.[who] || `部门 ${who}`;
  if (role === "agent") return `代办点 ${who}`;
  if (role === "auditor") return `监察室 ${who}`;
  if (role === "staff") return `工作人员 ${who}`;
  if (role === "system") return SYSTEM_PARTS[who] || `系统 ${who}`;
  return actor;
}

/** A message box for an error of the API (or anything else). */
export function errorNotice(error, prefix = "操作未成功") {
  const message = error?.friendly || error?.message || String(error);
  return h("div", { class: "notice bad", role: "alert" }, h("p", null, h("strong", null, prefix), "：", message));
}

/** An Idempotency-Key; randomUUID needs a secure context, getRandomValues does not. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Reads the query part of the hash route (#/guide?q=…). */
export function hashQuery() {
  const hash = location.hash || "";
  const at = hash.indexOf("?");
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
}

export function emptyState(text, ...more) {
  return h("div", { class: "card" }, h("p", null, text), ...more);
}
