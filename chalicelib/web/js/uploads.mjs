// Materials go straight to S3: announce the file (type, size, SHA-256) to the API, then PUT it to the
// presigned URL with exactly the headers the ticket names, with a progress bar; S3's notification
// then marks the material received on the case.
import { ApiError, citizen } from "./api.mjs";
import { typeName } from "./guide.mjs";
import { bytes, errorNotice, h, newId, render } from "./ui.mjs";

export async function sha256Hex(file) {
  const data = await file.arrayBuffer();
  if (globalThis.crypto?.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", data);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  const { sha256 } = await import("./sha256.mjs"); // plain http on another host: no WebCrypto
  return sha256(new Uint8Array(data));
}

const EXTENSIONS = { pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png" };
function typeOf(file) {
  return file.type || EXTENSIONS[(file.name.split(".").pop() || "").toLowerCase()] || "";
}

/** PUTs the file with the ticket's headers; reports progress (0–1). Content-Length is set by the
 * browser itself from the file (a script may not set it), and is the size that was announced. */
export function putWithProgress(ticket, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.method || "PUT", ticket.url);
    for (const [name, value] of Object.entries(ticket.headers || {})) {
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText || "")?.[1];
        const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "")?.[1];
        reject(new Error(`存储服务拒收了文件（${xhr.status}${code ? ` ${code}` : ""}${message ? `：${message}` : ""}）`));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("上传中断：网络连接失败，请重试")));
    xhr.addEventListener("abort", () => reject(new Error("上传已取消")));
    xhr.send(file);
  });
}

const STATUS_WORDS = {
  announced: "已登记，等待上传完成",
  received: "已接收",
  rejected: "被拒收",
};

/**
 * One material's card: name, requirements, a file field, a progress bar and its status.
 * `caseId()` gives the case; `current` is the material as the case records it (or undefined).
 * `onStored(material)` is called once the case records it as received.
 */
export function materialCard(spec, { caseId, current, onStored, required = spec.required, correction = false }) {
  const inputId = newId("file");
  const progressId = newId("prog");
  const statusId = newId("st");
  const file = h("input", { type: "file", id: inputId, name: spec.id, accept: spec.content_types.join(","),
    "aria-describedby": statusId });
  const progress = h("progress", { id: progressId, max: "100", value: "0", "aria-label": `${spec.name} 上传进度` });
  const status = h("p", { class: "status", id: statusId, role: "status" });
  const error = h("div");
  const card = h("li", { class: "material", "data-material": spec.id },
    h("h3", null, spec.name, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    h("p", { class: "small muted" }, required ? "必交" : "选交", " · ", `格式 ${spec.content_types.map(typeName).join("、")}`,
      ` · 不超过 ${bytes(spec.max_bytes)}`, spec.notes ? ` · ${spec.notes}` : ""),
    h("label", { for: inputId }, `${correction ? "重新上传" : "选择文件"}：${spec.name}`),
    file, progress, status, error);
  // A material an e-licence may stand for: the applicant's own licences of those kinds, in force.
  if ((spec.licence_kinds || []).length && !correction) card.insertBefore(licencePicker(), status);

  const show = (material) => {
    if (!material) {
      status.textContent = required ? "尚未上传" : "尚未上传（选交）";
      card.classList.remove("done");
      return;
    }
    const words = STATUS_WORDS[material.status] || material.status;
    if (material.certificate) {
      status.textContent = `${words}：以电子证照 ${material.certificate} 代替上传`;
      card.classList.toggle("done", material.status === "received");
      progress.value = 100;
      return;
    }
    status.textContent = `${words}：${material.filename || ""}（${bytes(material.size)}）${material.reason ? `，原因：${material.reason}` : ""}`;
    card.classList.toggle("done", material.status === "received");
    if (material.status === "received") progress.value = 100;
  };
  show(correction ? undefined : current);

  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    render(error);
    card.classList.remove("invalid", "done");
    const type = typeOf(chosen);
    if (!spec.content_types.includes(type)) {
      fail(`文件格式不符合要求，请上传 ${spec.content_types.map(typeName).join("、")} 文件`);
      return;
    }
    if (chosen.size > spec.max_bytes) {
      fail(`文件过大（${bytes(chosen.size)}），不能超过 ${bytes(spec.max_bytes)}`);
      return;
    }
    if (chosen.size === 0) {
      fail("文件是空的，请重新选择");
      return;
    }
    file.disabled = true;
    progress.value = 0;
    try {
      status.textContent = "正在校验文件…";
      const sha256 = await sha256Hex(chosen);
      status.textContent = "正在登记材料…";
      const ticket = await citizen.post(`/cases/${caseId()}/uploads`, {
        material: spec.id, filename: chosen.name, content_type: type, size: chosen.size, sha256 });
      status.textContent = "正在上传…";
      await putWithProgress(ticket, chosen, (share) => {
        progress.value = Math.round(share * 100);
        status.textContent = `正在上传… ${Math.round(share * 100)}%`;
      });
      progress.value = 100;
      status.textContent = "上传完成 100%，等待系统确认…";
      const material = await waitReceived(caseId(), spec.id, sha256);
      show(material);
      if (material.status === "received") {
        onStored?.(material);
      } else if (material.status === "rejected") {
        fail(`材料被拒收：${material.reason || "文件与登记的不一致"}`);
      } else {
        status.textContent = "文件已上传，系统仍在确认，请稍后刷新页面查看";
      }
    } catch (problem) {
      const words = problem instanceof ApiError && problem.problems.length
        ? problem.problems.map((p) => `${p.title || p.field}：${p.reason}`).join("；") : null;
      fail(words || problem.friendly || problem.message);
    } finally {
      file.disabled = false;
    }
  });

  function licencePicker() {
    const pickId = newId("lic");
    const pick = h("select", { id: pickId, name: `${spec.id}-licence` }, h("option", { value: "" }, "正在读取我的电子证照…"));
    const use = h("button", { type: "button", class: "btn secondary small", disabled: true }, "使用所选电子证照");
    myLicences().then((all) => {
      const fitting = all.filter((l) => l.valid && spec.licence_kinds.includes(l.kind));
      render(pick, fitting.length ? h("option", { value: "" }, "请选择") : h("option", { value: "" }, "没有可用的电子证照"),
        fitting.map((l) => h("option", { value: l.number }, `${l.kind_name} ${l.number}（${l.holder.name}）`)));
      use.disabled = !fitting.length;
    }).catch(() => render(pick, h("option", { value: "" }, "无法读取电子证照")));
    use.addEventListener("click", async () => {
      if (!pick.value) {
        fail("请先选择一张电子证照");
        return;
      }
      render(error);
      card.classList.remove("invalid");
      use.disabled = true;
      try {
        status.textContent = "正在核验电子证照…";
        const answer = await citizen.post(`/cases/${caseId()}/uploads`, { material: spec.id, certificate: pick.value });
        const material = { status: answer.status, certificate: answer.certificate };
        show(material);
        onStored?.(material);
      } catch (problem) {
        fail(problem.friendly || problem.message);
      } finally {
        use.disabled = false;
      }
    });
    return h("div", { class: "licence-pick" },
      h("label", { for: pickId }, `或使用我的电子证照（${spec.name}）`), pick, " ", use);
  }

  function fail(text) {
    card.classList.add("invalid");
    status.textContent = "未上传";
    render(error, errorNotice({ message: text }, "上传失败"));
  }

  return {
    element: card, spec, show,
    problem(text) {
      card.classList.add("invalid");
      render(error, h("p", { class: "field-error" }, text));
    },
    clear() { card.classList.remove("invalid"); render(error); },
    focus() { file.focus(); },
  };
}

let licences = null;
/** The applicant's e-licences, read once per page. */
function myLicences() {
  if (!licences) licences = citizen.get("/me/licences").then((d) => d.licences || []).catch((e) => { licences = null; throw e; });
  return licences;
}

/** Waits until the case records the material with this checksum as received (or rejected). */
async function waitReceived(caseId, material, sha256, timeoutMs = 45000) {
  const until = Date.now() + timeoutMs;
  let delay = 400;
  while (Date.now() < until) {
    const view = await citizen.get(`/cases/${caseId}`);
    const found = view.materials?.[material];
    if (found && found.sha256 === sha256 && found.status !== "announced") return found;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 2000);
  }
  return { status: "announced", filename: "", reason: "系统确认超时，请稍后刷新页面查看" };
}
