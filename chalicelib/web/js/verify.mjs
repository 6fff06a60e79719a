// Checking an e-certificate by its verification code (public).
import { get, reference } from "./api.mjs";
import { crumbs, errorNotice, field, h, heading, render, time } from "./ui.mjs";

export async function verifyPage(main, ctx) {
  const code = h("input", { type: "text", name: "code", autocomplete: "off", maxlength: "16", spellcheck: "false",
    value: ctx.query.get("code") || "", style: "text-transform:uppercase" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "电子证照验证码", control: code, required: true, hint: "16 位数字和字母，见办结通知或办件页面" }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "核验")));

  async function check(value) {
    const wanted = value.trim().toUpperCase();
    if (!/^[0-9A-F]{16}$/.test(wanted)) {
      render(result, errorNotice({ message: "验证码应为 16 位数字和字母（A–F）" }, "无法核验"));
      code.focus();
      return;
    }
    render(result, h("p", { role: "status" }, "正在核验…"));
    try {
      const [cert, halls, departments] = await Promise.all([get(`/certificates/${wanted}`),
        reference.hallNames().catch(() => ({})), reference.departmentNames().catch(() => ({}))]);
      if (!ctx.alive()) return;
      history.replaceState(null, "", `#/verify?code=${wanted}`);
      render(result, h("section", { class: "card cert", "aria-labelledby": "cert-title" },
        h("h2", { id: "cert-title" }, h("span", { class: "badge green" }, "✓ 证照有效"), " ", cert.item_name),
        h("dl", { class: "facts" },
          fact("验证码", cert.code), fact("受理编号", cert.case_no), fact("持证人", cert.holder),
          fact("证件号码", cert.holder_id_number), fact("签发时间", time(cert.issued_at)),
          fact("签发大厅", halls[cert.hall] || cert.hall),
          fact("审批部门", (cert.departments || []).map((d) => departments[d] || d).join("、")))));
    } catch (error) {
      render(result, error.status === 404
        ? h("div", { class: "notice bad", role: "alert" }, h("p", null, h("strong", null, "未找到该电子证照"), "：请核对验证码是否正确。"))
        : errorNotice(error, "核验失败"));
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); check(code.value); });
  render(main, crumbs(["首页", "#/guide"], ["证照核验"]), heading("电子证照核验"),
    h("p", { class: "lead" }, "输入电子证照上的验证码，核验证照真伪。持证人信息已脱敏显示。"), form, result);
  if (code.value) check(code.value);
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}
