// Public checks: an e-licence by its number (holder masked, validity, status, its seal), a sealed
// document by the id its QR code carries (#/verify/<id>), and a PDF someone was handed.
import { get, reference, request } from "./api.mjs";
import { crumbs, errorNotice, field, h, heading, render, time } from "./ui.mjs";

const STATUS_BADGE = { valid: "green", changed: "yellow", revoked: "red", expired: "grey" };

export async function verifyPage(main, ctx) {
  const code = h("input", { type: "text", name: "code", autocomplete: "off", maxlength: "40", spellcheck: "false",
    value: ctx.query.get("code") || "", style: "text-transform:uppercase" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "电子证照编号", control: code, required: true, hint: "证照上的编号（16 位数字和字母），见办结通知或办件页面" }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "核验")));

  async function check(value) {
    const wanted = value.trim().toUpperCase();
    if (!/^[0-9A-Z]{1,40}$/.test(wanted)) {
      render(result, errorNotice({ message: "证照编号由数字和字母组成" }, "无法核验"));
      code.focus();
      return;
    }
    render(result, h("p", { role: "status" }, "正在核验…"));
    try {
      const [cert, halls] = await Promise.all([get(`/certificates/${wanted}`), reference.hallNames().catch(() => ({}))]);
      if (!ctx.alive()) return;
      history.replaceState(null, "", `#/verify?code=${wanted}`);
      render(result, licenceCard(cert, halls));
    } catch (error) {
      render(result, error.status === 404
        ? h("div", { class: "notice bad", role: "alert" }, h("p", null, h("strong", null, "未找到该电子证照"), "：请核对证照编号是否正确。"))
        : errorNotice(error, "核验失败"));
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); check(code.value); });
  render(main, crumbs(["首页", "#/guide"], ["证照核验"]), heading("电子证照与文书核验"),
    h("p", { class: "lead" }, "输入电子证照编号核验证照状态，或选择收到的PDF文书核验电子印章。个人信息已脱敏显示。"),
    form, result, fileCheck());
  if (code.value) check(code.value);
}

// Where a document's QR code leads.
export async function documentPage(main, ctx) {
  const id = ctx.params[0];
  const result = h("div", { "aria-live": "polite" });
  render(main, crumbs(["首页", "#/guide"], ["证照核验", "#/verify"], ["文书核验"]), heading("文书核验"), result, fileCheck());
  try {
    const doc = await get(`/public/documents/${encodeURIComponent(id)}`);
    if (!ctx.alive()) return;
    render(result, h("section", { class: "card cert", "aria-labelledby": "doc-title", "data-document-id": doc.document_id },
      h("h2", { id: "doc-title" }, sealBadge(doc.seal), " ", doc.title),
      h("p", { id: "seal-reason" }, doc.seal.reason),
      h("dl", { class: "facts" },
        fact("文号", doc.number), fact("受理编号", doc.case_no), fact("事项", doc.item_name || "—"),
        fact("当事人", holderText(doc.holder)), fact("出具大厅", doc.hall_name), fact("承办部门", doc.department_name),
        fact("承办人", doc.staff_name || "—"), fact("出具时间", time(doc.issued_at)), fact("文书编号", doc.document_id),
        fact("SHA-256", h("span", { class: "mono small" }, doc.sha256))),
      doc.licence ? licenceCard(doc.licence, {}, "h3") : null));
  } catch (error) {
    render(result, error.status === 404
      ? h("div", { class: "notice bad", role: "alert" }, h("p", null, h("strong", null, "未找到该文书"), "：二维码或文书编号无效。"))
      : errorNotice(error, "核验失败"));
  }
}

function licenceCard(cert, halls, level = "h2") {
  const holder = cert.holder || {};
  return h("section", { class: "card cert", "aria-labelledby": "cert-title", "data-status": cert.status },
    h(level, { id: "cert-title" }, h("span", { class: `badge ${STATUS_BADGE[cert.status] || "grey"}` },
      cert.valid ? `✓ 证照${cert.status_name}` : `✗ 证照${cert.status_name}`), " ", cert.kind_name),
    h("dl", { class: "facts" },
      fact("证照编号", cert.number), fact("持证主体", holder.name),
      holder.credit_code ? fact("统一社会信用代码", holder.credit_code) : null,
      holder.legal_representative ? fact("法定代表人", holder.legal_representative) : null,
      holder.id_number ? fact("证件号码", holder.id_number) : null,
      fact("许可事项", cert.item_name), fact("受理编号", cert.case_no),
      fact("发证机关", cert.department_name || cert.department || "—"),
      cert.hall ? fact("签发大厅", halls[cert.hall] || cert.hall) : null,
      fact("有效期限", `${cert.valid_from} 至 ${cert.valid_until || "长期"}`), fact("签发时间", time(cert.issued_at)),
      cert.seal ? fact("电子印章", h("span", null, sealBadge(cert.seal), " ", cert.seal.reason)) : null,
      cert.document ? fact("证照文书", h("a", { href: `#/verify/${cert.document}` }, "查看文书核验")) : null),
    (cert.history || []).length ? h("div", null, h("h3", { class: "h3" }, "状态变更记录"),
      h("ul", null, cert.history.map((c) => h("li", null, `${time(c.at)} ${c.to === "revoked" ? "撤销" : c.to === "changed" ? "变更" : "注销（过期）"}：${c.reasons.join("；")}`)))) : null);
}

// A PDF someone was handed: its seal checked and compared with the file the case recorded.
function fileCheck() {
  const input = h("input", { type: "file", name: "pdf", accept: "application/pdf,.pdf" });
  const result = h("div", { "aria-live": "polite", id: "file-check-result" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px", id: "file-check" },
    field({ label: "选择PDF文书", control: input, hint: "本系统出具的文书（受理通知书、决定书、电子证照），不超过 65 KB" }),
    h("div", { class: "actions" }, h("button", { class: "btn secondary", type: "submit" }, "核验文件")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (!file) {
      render(result, errorNotice({ message: "请先选择一个PDF文件" }, "无法核验"));
      return;
    }
    render(result, h("p", { role: "status" }, "正在核验…"));
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const answer = await request("/public/documents/check", { method: "POST", body: { pdf: btoa(binary) } });
      render(result, h("div", { class: `notice ${answer.seal.valid ? "ok" : "bad"}`, role: "status", "data-seal": answer.seal.code },
        h("p", null, sealBadge(answer.seal), " ", h("strong", { id: "file-seal-reason" }, answer.seal.reason)),
        answer.document ? h("p", null, `${answer.document.title} ${answer.document.number}，`,
          h("a", { href: `#/verify/${answer.document.document_id}` }, "查看存档记录")) : h("p", null, "该文件未标明本系统出具的文书。")));
    } catch (error) {
      render(result, errorNotice(error, "核验失败"));
    }
  });
  return h("section", { "aria-label": "核验PDF文书" }, h("h2", { class: "h3" }, "核验PDF文书的电子印章"), form, result);
}

function sealBadge(seal) {
  return h("span", { class: `badge ${seal.valid ? "green" : "red"}`, "data-seal": seal.code }, seal.valid ? "✓ 印章有效" : "✗ 印章无效");
}

function holderText(holder) {
  if (!holder) return "—";
  return holder.credit_code ? `${holder.name}（${holder.credit_code}）` : holder.name;
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}
