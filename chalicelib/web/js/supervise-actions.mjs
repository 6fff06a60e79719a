// What a supervision office's staff member does from the board (电子监察 · 监察操作): issue a
// supervision order on a case or a card. Every call is signed by supervise.mjs (`api`); the server
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
  if (body.field === "hall") {
    const found = /belongs to hall (\S+), outside the halls (\S+) supervises/.exec(body.message || "")
      || /is in hall (\S+), outside/.exec(body.message || "");
    const hall = found ? `属于${hallName(halls, found[1])}，` : "";
    return `无权操作：该办件${hall}不在本监察室的监察范围内${within}。`;
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
