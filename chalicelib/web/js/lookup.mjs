// 办件查询: a case's status and stage by its 受理编号 and query code, without signing in (public).
import { request } from "./api.mjs";
import { CASE_STATUS, crumbs, errorNotice, field, h, heading, render, time } from "./ui.mjs";

export async function lookupPage(main, ctx) {
  const caseNo = h("input", { type: "text", name: "case_no", autocomplete: "off", maxlength: "40",
    spellcheck: "false", placeholder: "如 BZ-20261130-00001", value: ctx.query.get("case_no") || "",
    style: "text-transform:uppercase" });
  const code = h("input", { type: "text", name: "query_code", autocomplete: "off", maxlength: "6",
    inputmode: "numeric", pattern: "[0-9]{6}" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "受理编号", control: caseNo, required: true, hint: "见受理回执或提交申请后的短信" }),
    field({ label: "查询码", control: code, required: true, hint: "6 位数字，与受理编号一同告知" }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "查询")));

  async function look() {
    const number = caseNo.value.trim().toUpperCase();
    const digits = code.value.trim();
    if (!/^[A-Z]{2,12}-\d{8}-\d{5}$/.test(number)) {
      render(result, errorNotice({ message: "受理编号的格式为：大厅代码-日期-序号，如 BZ-20261130-00001" }, "无法查询"));
      caseNo.focus();
      return;
    }
    if (!/^\d{6}$/.test(digits)) {
      render(result, errorNotice({ message: "查询码为 6 位数字" }, "无法查询"));
      code.focus();
      return;
    }
    render(result, h("p", { role: "status" }, "正在查询…"));
    try {
      const found = await request("/lookup", { method: "POST", body: { case_no: number, query_code: digits } });
      if (!ctx.alive()) return;
      const tone = (CASE_STATUS[found.status] || [])[1] || "grey";
      render(result, h("section", { class: "card", "aria-labelledby": "lookup-title", id: "lookup-result" },
        h("h2", { id: "lookup-title" }, "办件进度"),
        h("dl", { class: "facts" },
          fact("受理编号", found.case_no),
          fact("办理状态", h("span", { class: `badge ${tone}`, "data-status": found.status }, found.status_name)),
          fact("当前环节", found.stage_name || "办理已结束"),
          fact("更新时间", found.updated_at ? time(found.updated_at) : "—")),
        h("p", { class: "hint" }, "如需查看办理详情、材料和评价，请登录后在“我的办件”中查看。")));
    } catch (error) {
      render(result, error.status === 404
        ? h("div", { class: "notice bad", role: "alert" }, h("p", null, h("strong", null, "未查询到办件"), "：请核对受理编号和查询码。"))
        : errorNotice(error, "查询失败"));
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); look(); });
  render(main, crumbs(["首页", "#/guide"], ["办件查询"]), heading("办件查询"),
    h("p", { class: "lead" }, "无需登录：输入受理编号和查询码，查看办件的办理状态和所在环节。"), form, result);
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}
