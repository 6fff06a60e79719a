// What a supervision office's staff member does from the board (电子监察 · 监察操作): issue a
// supervision order on a case or a card, pull a window's footage, decide a rating appeal, download
// the monthly report. Every call is signed by supervise.mjs (`api`); the server
// decides who may (the rights of the role, the office's halls) and the board says its refusal in
// Chinese.
import { dateTime, errorNotice, field, fieldError, h, render, uuid } from "./ui.mjs";

// The rights a refusal may name (chalicelib/domain/rights.py) and who holds them.
const RIGHTS = {
  read_supervision: "查阅监察信息", issue_orders: "下达督办单（监察员）", pull_footage: "调取窗口录像（监察员）",
  view_evidence: "调阅证据录像", decide_appeals: "裁定评价申诉（监察室负责人）",
};

/** A hall's name, or its code where the name is unknown. */
export function hallName(names, code) {
  return (code && names?.[code]) || code || "—";
}

/** The server's refusal (403: the right the role lacks, or a hall outside the office's) in Chinese;
 * other errors as the API words them. `scope`: the halls the office supervises. */
export function refusalText(error, { halls = {}, scope = [] } = {}) {
  if (error?.status !== 403) return error?.friendly || error?.message || String(error);
  const body = error.body || {};
  const within = scope.length ? `（本级及下级大厅：${scope.map((c) => hallName(halls, c)).join("、")}）` : "";
  if (body.right) {
    return `无权操作：本账号没有“${RIGHTS[body.right] || body.right}”的权限（${body.right}）。`;
  }
  if (/monthly report/.test(body.message || "")) {
    return "无权操作：月报涵盖全市各大厅，仅市级监察室可以查阅。";
  }
  if (body.field === "hall") {
    const found = /belongs to hall (\S+), outside the halls (\S+) supervises/.exec(body.message || "")
      || /is in hall (\S+), outside/.exec(body.message || "");
    const hall = found ? `属于${hallName(halls, found[1])}，` : "";
    const what = /^window /.test(body.message || "") ? "该窗口" : "该办件";
    return `无权操作：${what}${hall}不在本监察室的监察范围内${within}。`;
  }
  return `无权操作：${body.message || "服务器拒绝了此操作"}`;
}

/** A refusal's notice: the Chinese words, then the server's own answer for the record. */
export function refusalNotice(error, prefix, context) {
  if (error?.status !== 403) return errorNotice(error, prefix);
  return h("div", { class: "notice bad", role: "alert", "data-refused": error.body?.right || error.body?.field || "403" },
    h("p", null, h("strong", null, prefix), "：", refusalText(error, context)),
    h("p", { class: "small mono" }, `服务器答复 403：${error.body?.message || ""}`));
}

/** The form of a supervision order (督办单). `target`: {case_id} or {card: {case_id, event_id}}, or
 * nothing (the form then asks for the case: its id or its 受理编号, which the server resolves). */
export function orderForm(api, { target = null, context = {}, onIssued } = {}) {
  const caseInput = h("input", { type: "text", name: "case", spellcheck: "false", autocomplete: "off" });
  const caseField = target ? null
    : field({ label: "督办办件", control: caseInput, required: true, hint: "办件 ID（32 位）或受理编号" });
  const text = h("textarea", { name: "text", maxlength: "2000", rows: "3" });
  const textField = field({ label: "督办事由", control: text, required: true, hint: "要求部门办理或说明的事项，2000 字以内" });
  const days = h("input", { type: "number", name: "limit_days", min: "1", max: "30", step: "1", value: "3", inputmode: "numeric" });
  const daysField = field({ label: "办理期限（工作日）", control: days, required: true, hint: "1–30 个工作日" });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "下达督办单");
  const form = h("form", { class: "card order-form", novalidate: true }, caseField, textField, daysField,
    h("div", { class: "actions" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const limit = Number(days.value);
    const errors = {
      case: !target && !caseInput.value.trim() ? "请填写办件 ID 或受理编号" : null,
      text: text.value.trim() ? null : "请填写督办事由",
      days: Number.isInteger(limit) && limit >= 1 && limit <= 30 ? null : "办理期限为 1–30 个工作日",
    };
    if (caseField) fieldError(caseField, errors.case);
    fieldError(textField, errors.text);
    fieldError(daysField, errors.days);
    if (Object.values(errors).some(Boolean)) return;
    submit.disabled = true;
    render(status, h("p", { role: "status" }, "正在下达…"));
    try {
      const on = target || { case_id: caseInput.value.trim() };
      const order = await api.post("/supervision/orders", { ...on, text: text.value.trim(), limit_days: limit },
        { "Idempotency-Key": uuid() });
      render(status, h("div", { class: "notice ok", role: "status", "data-order": order.task_id },
        h("p", null, h("strong", null, `已下达督办单 ${order.task_id}`)),
        h("p", null, `承办部门：${context.departments?.[order.department] || order.department}`,
          ` · 大厅：${hallName(context.halls, order.hall)}`),
        h("p", { class: "order-deadline" }, `办理期限：${dateTime(order.deadline)}（${order.limit_days} 个工作日）`)));
      text.value = "";
      onIssued?.(order);
    } catch (error) {
      render(status, refusalNotice(error, "督办单未下达", context));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// -- 调取录像: a window's footage for a period (at most LONGEST_MINUTES; the server says its own longest) --
// One clip from the cameras holds at most 200 fragments (about 6 min 40 s), so longer footage comes back
// as several parts, in the order of time, each stored, sealed and hashed on its own.
export const LONGEST_MINUTES = 120;

function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  const c = new Date(d.getTime() + 8 * 3600000);        // China time, as the hall keeps it
  return `${c.getUTCFullYear()}-${p(c.getUTCMonth() + 1)}-${p(c.getUTCDate())}T${p(c.getUTCHours())}:${p(c.getUTCMinutes())}`;
}

/** One stored part of a pull: its player, its period, its link and its SHA-256. */
export function pulledPart(clip, part) {
  const label = part.parts > 1 ? `第 ${part.part}/${part.parts} 段` : "录像";
  return h("li", { class: "sup-card pulled-part", "data-part": String(part.part) },
    h("p", null, h("strong", null, label), ` · ${dateTime(part.start)} 至 ${dateTime(part.end)}`),
    h("video", { controls: true, preload: "metadata", src: part.url, "aria-label": `窗口 ${clip.window} 录像 ${label}` }),
    h("p", { class: "small" }, h("a", { href: part.url, download: `${clip.clip_id}-${part.part}.mp4`, class: "clip-link" }, `下载${label}`),
      ` · ${part.bytes} 字节 · ${part.content_type}`),
    h("p", { class: "small muted mono" }, `SHA-256 ${part.sha256}`));
}

/** `windows`: [{code, name, hall, department}] of the office's halls. */
export function clipForm(api, { windows, context = {} }) {
  const windowSelect = h("select", { name: "window" }, windows.map((w) =>
    h("option", { value: w.code }, `${w.name}（${w.code}）· ${hallName(context.halls, w.hall)}`)));
  const start = h("input", { type: "datetime-local", name: "start", value: localInput(new Date(Date.now() - 20 * 60000)) });
  const minutes = h("input", { type: "number", name: "minutes", min: "1", max: String(LONGEST_MINUTES), step: "1", value: "10", inputmode: "numeric" });
  const startField = field({ label: "开始时间（北京时间）", control: start, required: true });
  const minutesField = field({ label: "时长（分钟）", control: minutes, required: true,
    hint: `每次最多 ${LONGEST_MINUTES} 分钟；超过约 6 分钟的录像分段保存` });
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "调取录像");
  const form = h("form", { class: "card clip-form", novalidate: true },
    h("div", { class: "filters" }, field({ label: "窗口", control: windowSelect, required: true }), startField, minutesField),
    h("div", { class: "actions" }, submit), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const length = Number(minutes.value);
    const fits = Number.isInteger(length) && length >= 1 && length <= LONGEST_MINUTES;
    const from = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(start.value) ? new Date(`${start.value}:00+08:00`) : null;
    fieldError(startField, from && from.getTime() < Date.now() ? null : "请填写已过去的开始时间");
    fieldError(minutesField, fits ? null : `时长为 1–${LONGEST_MINUTES} 分钟`);
    if (!from || from.getTime() >= Date.now() || !fits) return;
    const iso = (d) => `${localInput(d)}:00+08:00`;
    submit.disabled = true;
    render(result, h("p", { role: "status" }, length > 6 ? "正在分段调取录像…" : "正在调取录像…"));
    try {
      const clip = await api.post("/supervision/clips", { window: windowSelect.value, start: iso(from),
        end: iso(new Date(from.getTime() + length * 60000)) });
      const until = new Date(Date.now() + (clip.expires_in || 300) * 1000).toISOString();
      const parts = clip.parts || [];
      render(result, h("div", { class: "pulled-clip", "data-clip": clip.clip_id, "data-parts": String(parts.length) },
        h("p", null, h("strong", null, `已调取 ${clip.clip_id}`), ` · 窗口 ${clip.window}（${clip.stream}）`),
        h("p", { class: "small" }, `${dateTime(clip.start)} 至 ${dateTime(clip.end)} · 共 ${parts.length} 段 · ${clip.bytes} 字节`),
        h("ol", { class: "cards pulled-parts" }, parts.map((part) => pulledPart(clip, part))),
        h("p", { class: "small" }, `链接有效至 ${dateTime(until)}（${clip.expires_in} 秒），调取已记入监察记录`)));
    } catch (error) {
      if (error?.status === 400 && error.body?.field === "end") {
        fieldError(minutesField, `时长超过允许的上限：${error.body.message}`);
      }
      render(result, refusalNotice(error, "调取失败", context));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// -- 评价申诉: a supervision head decides a department's appeal against a 差评 ---------------------------
/** The pending appeal of a case's rating, from its trail (appealed, not decided yet), or null. */
export function pendingAppeal(records) {
  let pending = null;
  for (const r of records) {
    if (r.action === "rating_appealed") pending = { reason: r.data?.reason, at: r.at, by: r.actor };
    if (r.action === "rating_appeal_decided") pending = null;
  }
  return pending;
}

export function appealForm(api, { caseId, appeal, context = {}, onDecided }) {
  const upheld = h("select", { name: "upheld" }, h("option", { value: "" }, "请选择"),
    h("option", { value: "true" }, "申诉成立：撤销该差评（不再计入考核）"), h("option", { value: "false" }, "申诉不成立：维持评价"));
  const reason = h("textarea", { name: "reason", maxlength: "1000", rows: "3" });
  const upheldField = field({ label: "裁定结果", control: upheld, required: true });
  const reasonField = field({ label: "裁定理由", control: reason, required: true });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "提交裁定");
  const form = h("form", { class: "card appeal-form", novalidate: true },
    h("p", null, h("strong", null, "部门申诉："), appeal.reason || "—", h("span", { class: "small muted" }, ` · ${dateTime(appeal.at)}`)),
    upheldField, reasonField, h("div", { class: "actions" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(upheldField, upheld.value ? null : "请选择裁定结果");
    fieldError(reasonField, reason.value.trim() ? null : "请填写裁定理由");
    if (!upheld.value || !reason.value.trim()) return;
    submit.disabled = true;
    try {
      const answer = await api.post(`/supervision/cases/${encodeURIComponent(caseId)}/rating/appeal`,
        { upheld: upheld.value === "true", reason: reason.value.trim() });
      const decided = answer.rating?.appeal;
      render(status, h("div", { class: "notice ok", role: "status", "data-appeal": decided?.status || "" },
        h("p", null, h("strong", null, decided?.status === "upheld" ? "已裁定：申诉成立，差评已撤销" : "已裁定：申诉不成立，评价维持")),
        h("p", { class: "small" }, `裁定人 ${decided?.decided_by || ""} · ${dateTime(decided?.decided_at)}`)));
      submit.remove();
      onDecided?.(answer);
    } catch (error) {
      render(status, refusalNotice(error, "裁定未提交", context));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// -- 月报: the monthly report (the city's office), CSV or HTML -----------------------------------------
export function reportLinks(api, { period, context = {} }) {
  const status = h("div", { "aria-live": "polite" });
  const button = (kind, label) => {
    const b = h("button", { type: "button", class: "btn secondary small", "data-report": kind }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      render(status, h("p", { role: "status" }, "正在生成月报…"));
      try {
        const blob = await api.file(`/audit/reports/${encodeURIComponent(period())}/${kind}`);
        const url = URL.createObjectURL(blob);
        const name = `电子监察月报-${period()}.${kind}`;
        render(status, h("p", { class: "small" }, h("a", { href: url, download: name, class: "report-link", "data-kind": kind },
          `保存 ${name}`), ` · ${blob.size} 字节`, kind === "html" ? h("span", null, " · ",
          h("a", { href: url, target: "_blank", rel: "noopener" }, "在新窗口查看")) : null));
        status.querySelector("a.report-link").click();
      } catch (error) {
        render(status, refusalNotice(error, "月报下载失败", context));
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  return h("div", { class: "report-links" }, h("div", { class: "actions" },
    button("csv", "下载月报（CSV）"), button("html", "下载月报（HTML）")), status);
}
