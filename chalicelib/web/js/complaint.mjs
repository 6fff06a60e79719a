// A complaint about a window visit: the window, the moment, what happened. The window camera's
// footage around that moment is kept as evidence for the supervision office.
import { ApiError, citizen, reference } from "./api.mjs";
import { chinaParts, crumbs, dateTime, errorNotice, field, fieldError, h, heading, render } from "./ui.mjs";

export async function complaintPage(main, ctx) {
  const [departments, halls, mine] = await Promise.all([reference.departments(), reference.hallNames(),
    citizen.get("/cases").catch(() => ({ cases: [] }))]);
  if (!ctx.alive()) return;
  const window_ = h("select", { name: "window" }, h("option", { value: "" }, "请选择窗口"),
    departments.map((d) => h("optgroup", { label: d.name }, d.windows.map((w) =>
      h("option", { value: w.code }, `${w.name}（${w.code}，${halls[w.hall] || w.hall}）`)))));
  const p = chinaParts(new Date(Date.now() - 10 * 60000));
  const visited = h("input", { type: "datetime-local", name: "visited_at", step: "60",
    value: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}` });
  const linked = h("select", { name: "case_id" }, h("option", { value: "" }, "不关联办件"),
    (mine.cases || []).filter((c) => c.case_no).map((c) => h("option", { value: c.case_id, selected: ctx.query.get("case") === c.case_id },
      `${c.case_no} ${c.item_name || ""}`)));
  const text = h("textarea", { name: "text", maxlength: "2000", rows: "5" });
  const fields = {
    window: field({ label: "投诉窗口", control: window_, required: true }),
    visited_at: field({ label: "到访时间（北京时间）", control: visited, required: true, hint: "系统将调取该时间前后 2 分钟的窗口录像作为证据" }),
    case_id: field({ label: "关联办件（可选）", control: linked }),
    text: field({ label: "投诉内容", control: text, required: true, hint: "请描述经过，最多 2000 字", wide: true }),
  };
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "提交投诉");
  const form = h("form", { novalidate: true, class: "card" }, h("div", { class: "form-grid" }, Object.values(fields)),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of Object.values(fields)) fieldError(f, null);
    render(status);
    const errors = {};
    if (!window_.value) errors.window = "请选择窗口";
    if (!visited.value) errors.visited_at = "请填写到访时间";
    else if (new Date(`${visited.value}:00+08:00`) > new Date()) errors.visited_at = "到访时间不能晚于现在";
    if (!text.value.trim()) errors.text = "请填写投诉内容";
    if (Object.keys(errors).length) {
      for (const [k, v] of Object.entries(errors)) fieldError(fields[k], v);
      fields[Object.keys(errors)[0]].querySelector("input, select, textarea").focus();
      return;
    }
    const body = { window: window_.value, visited_at: `${visited.value.slice(0, 16)}:00+08:00`, text: text.value.trim() };
    if (linked.value) body.case_id = linked.value;
    submit.disabled = true;
    render(status, h("p", { role: "status" }, "正在提交，并调取窗口录像…"));
    try {
      const task = await citizen.post("/complaints", body);
      const clips = task.subject?.evidence || [];
      const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
      form.hidden = true;
      render(status, h("section", { class: "notice ok", "aria-labelledby": "complaint-done" },
        h("h2", { id: "complaint-done", tabindex: "-1" }, "投诉已受理"),
        h("p", null, "投诉编号：", h("strong", { class: "mono", id: "complaint-id" }, task.task_id)),
        h("p", null, `承办部门：${names[task.department] || task.department}，办理期限：${dateTime(task.deadline)}`),
        h("p", null, `已调取窗口录像 ${clips.length} 段作为证据，由纪检监察组监督调查。`)));
      status.querySelector("h2").focus();
    } catch (error) {
      render(status, errorNotice(error, "投诉未提交"));
      if (error instanceof ApiError && fields[error.field]) fieldError(fields[error.field], error.friendly);
    } finally {
      submit.disabled = false;
    }
  });
  render(main, crumbs(["首页", "#/guide"], ["投诉"]), heading("投诉窗口服务"),
    h("p", { class: "lead" }, "对窗口工作人员的服务态度、办事效率等不满意，可以在此投诉。投诉将由政务服务中心纪检监察组督办。"),
    status, form);
}
