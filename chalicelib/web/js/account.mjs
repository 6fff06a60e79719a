// Citizens' accounts through Cognito's own JSON API (no SDK): SignUp with the mobile number only,
// ConfirmSignUp with the code texted to it (ResendConfirmationCode for a new one), InitiateAuth with
// USER_PASSWORD_AUTH (and REFRESH_TOKEN_AUTH after the real-name step), ForgotPassword and
// ConfirmForgotPassword. The real-name step (实名认证) is the API's POST /me/real-name: the name and
// identity number on the card, verified and bound to this account alone; only then does the account
// see and act on cases. The local stack texts nothing: its codes wait in its outbox, which the pages
// point to (web-config.json names it there). Where web-config.json names an OpenID Connect provider
// instead (the China variant), each of these pages is oidc.mjs's: the provider signs citizens in.
import { ApiError, citizen, reference, session } from "./api.mjs";
import { announce, crumbs, errorNotice, field, fieldError, h, heading, render } from "./ui.mjs";

const COGNITO_WORDS = {
  NotAuthorizedException: "手机号或密码不正确",
  UserNotFoundException: "手机号或密码不正确",
  UsernameExistsException: "该手机号已注册，请直接登录",
  InvalidPasswordException: "密码不符合要求：至少 8 位，且包含大写字母、小写字母和数字",
  CodeMismatchException: "验证码不正确，请重新输入",
  ExpiredCodeException: "验证码已过期，请重新获取",
  UserNotConfirmedException: "账号尚未验证手机号",
  TooManyRequestsException: "操作过于频繁，请稍后再试",
  LimitExceededException: "操作过于频繁，请稍后再试",
  InvalidParameterException: "填写的信息格式不正确",
};

class CognitoError extends Error {
  constructor(type, message) {
    super(message || type);
    this.type = type;
    const words = COGNITO_WORDS[type];
    this.friendly = words ? (type === "InvalidParameterException" && message ? `${words}（${message}）` : words)
      : `登录服务暂时不可用${message ? `（${message}）` : ""}`;
  }
}

async function cognito(action, payload) {
  const { cognito: config } = await reference.config();
  let response;
  try {
    response = await fetch(config.endpoint.replace(/\/?$/, "/"), {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify({ ClientId: config.client_id, ...payload }),
    });
  } catch {
    throw new CognitoError("Network", "网络连接失败");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type || data.code || "Error").split("#").pop();
    throw new CognitoError(type, data.message || data.Message);
  }
  return data;
}

export async function signIn(phone, password) {
  const answer = await cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: phone, PASSWORD: password } });
  const result = answer.AuthenticationResult;
  if (!result?.IdToken) throw new CognitoError("Challenge", `需要完成额外验证（${answer.ChallengeName || "未知"}）`);
  session.set(result.IdToken, result.RefreshToken);
  return result.IdToken;
}

/** A new ID token for the signed-in account: it carries the account's attributes as they are now
 * (after the real-name step, its verified name and identity number). */
export async function refreshSession() {
  const refresh = session.refreshToken();
  if (!refresh) throw new CognitoError("NotAuthorizedException", "请重新登录");
  const answer = await cognito("InitiateAuth", { AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: refresh } });
  session.set(answer.AuthenticationResult.IdToken, refresh);
}

/** Whether the signed-in account has taken the real-name step (its token carries the number). */
export function verified(user = session.user()) {
  return Boolean(session.idNumber(user));
}

/** oidc.mjs when citizens sign in with an OpenID Connect provider (web-config.json's `oidc`). */
async function viaProvider() {
  const config = await reference.config().catch(() => ({}));
  return config.oidc ? import("./oidc.mjs") : null;
}

function signUp(phone, password) {
  // The mobile number is all the website's app client may write: the name and identity number
  // come from the real-name step.
  return cognito("SignUp", { Username: phone, Password: password,
    UserAttributes: [{ Name: "phone_number", Value: `+86${phone}` }] });
}

function safeNext(next) {
  return next && next.startsWith("/") && !/^\/(signin|signup|realname|reset-password)/.test(next) ? next : "/cases";
}

const PHONE = /^1[3-9]\d{9}$/;
const PASSWORD_RULE = "密码至少 8 位，且包含大写字母、小写字母和数字";

function strongPassword(value) {
  return value.length >= 8 && /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value);
}

function input(attrs) {
  return h("input", { type: "text", ...attrs });
}

function fieldOf(form, name) {
  return form.elements[name]?.closest(".field");
}

function showErrors(form, errors) {
  let first = null;
  for (const el of form.querySelectorAll(".field")) fieldError(el, null);
  for (const [name, text] of Object.entries(errors)) {
    fieldError(fieldOf(form, name), text);
    first = first || form.elements[name];
  }
  first?.focus();
  return Object.keys(errors).length === 0;
}

/** Where the local stack keeps what it would text: a notice with a link, or nothing in the cloud. */
async function outboxNotice(phone) {
  const config = await reference.config().catch(() => ({}));
  if (!config.sms_outbox_url) return null;
  const url = `${config.sms_outbox_url}?phone=${encodeURIComponent(phone)}`;
  return h("p", { class: "notice warn", "data-outbox": url },
    "本地演示环境不发送短信：验证码在本地短信发件箱中，",
    h("a", { href: url, target: "_blank", rel: "noopener", id: "sms-outbox" }, "打开短信发件箱查看"), "。");
}

// -- 身份证号码 (GB 11643-1999): the same checks as the API's, so that a mistyped number is told at once
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const PROVINCES = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
  50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]);

export function idNumberProblem(value) {
  const number = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(number)) return "请填写 18 位身份证号码（17 位数字加 1 位数字或 X）";
  if (!PROVINCES.has(Number(number.slice(0, 2))) || number.slice(2, 6) === "0000") return "身份证号码的地区码不正确，请核对";
  const [y, m, d] = [number.slice(6, 10), number.slice(10, 12), number.slice(12, 14)].map(Number);
  const born = new Date(Date.UTC(y, m - 1, d));
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d
      || y < 1900 || born > new Date()) return "身份证号码中的出生日期不正确，请核对";
  const sum = WEIGHTS.reduce((total, w, i) => total + w * Number(number[i]), 0);
  if ("10X98765432"[sum % 11] !== number[17]) return "身份证号码校验位不正确，请逐位核对后重新输入";
  return null;
}

export function nameProblem(value) {
  const name = value.trim();
  if (name.length < 2 || name.length > 30) return "请填写身份证上的姓名（2 至 30 个字）";
  if (!/^[\u3400-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}·]+$/u.test(name) || /^·|·$|··/.test(name)) return "请按身份证填写汉字姓名（少数民族姓名中间用“·”分隔）";
  return null;
}

// -- sign in ---------------------------------------------------------------------------------------
export async function signInPage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const provider = await viaProvider();
  if (!ctx.alive()) return;
  if (provider) return provider.signInPage(main, ctx, next);
  const user = session.user();
  if (user && !ctx.query.get("expired")) {
    render(main, crumbs(["首页", "#/guide"], ["登录"]), heading("您已登录"),
      h("p", { class: "notice ok" }, `当前账号：${user.name || ""}（${user.phone_number || ""}）。`),
      h("div", { class: "actions" }, h("a", { class: "btn", href: verified(user) ? `#${next}` : `#/realname?next=${encodeURIComponent(next)}` }, "继续"),
        h("button", { type: "button", class: "btn secondary", onclick: () => { session.clear(); signInPage(main, ctx); } }, "退出并换个账号登录")));
    return;
  }
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:480px" },
    field({ label: "手机号", required: true, control: input({ name: "phone", type: "tel", inputmode: "numeric",
      autocomplete: "username", value: ctx.query.get("phone") || "" }) }),
    field({ label: "密码", required: true, control: input({ name: "password", type: "password",
      autocomplete: "current-password" }) }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "登录")),
    h("p", { class: "small" }, "还没有账号？", h("a", { href: `#/signup?next=${encodeURIComponent(next)}` }, "注册新账号"),
      "　", h("a", { href: `#/reset-password?next=${encodeURIComponent(next)}` }, "忘记密码？")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = form.elements.phone.value.trim();
    const password = form.elements.password.value;
    const errors = {};
    if (!PHONE.test(phone)) errors.phone = "请填写 11 位手机号码";
    if (!password) errors.password = "请填写密码";
    if (!showErrors(form, errors)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    render(status, h("p", { role: "status" }, "正在登录…"));
    try {
      await signIn(phone, password);
      announce("登录成功");
      location.hash = verified() ? `#${next}` : `#/realname?next=${encodeURIComponent(next)}`;
    } catch (error) {
      render(status, errorNotice(error, "登录失败"));
      if (error.type === "UserNotConfirmedException") {
        status.append(h("p", null, h("a", { href: `#/signup?confirm=${encodeURIComponent(phone)}&next=${encodeURIComponent(next)}` },
          "去验证手机号")));
      }
    } finally {
      button.disabled = false;
    }
  });
  render(main,
    crumbs(["首页", "#/guide"], ["登录"]),
    heading("登录"),
    ctx.query.get("expired") ? h("p", { class: "notice warn" }, "登录已失效或尚未登录，请登录后继续。") : null,
    ctx.query.get("registered") ? h("p", { class: "notice ok" }, "注册成功，请登录。") : null,
    ctx.query.get("reset") ? h("p", { class: "notice ok" }, "密码已重置，请用新密码登录。") : null,
    h("p", { class: "lead" }, "使用注册时的手机号和密码登录，办理网上申报、查看办件进度和评价。"),
    status, form);
}

// -- sign up: the phone, the texted code, then the real-name step ------------------------------------
export async function signUpPage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const provider = await viaProvider();
  if (!ctx.alive()) return;
  if (provider) return provider.elsewherePage(main, next, "注册账号");
  const status = h("div", { "aria-live": "polite" });
  const holder = h("div");
  let account = null;

  const confirmForm = async (phone) => {
    const resend = h("button", { class: "btn secondary", type: "button" }, "重新发送验证码");
    const form = h("form", { novalidate: true, class: "card", style: "max-width:520px" },
      h("h2", { tabindex: "-1" }, "验证手机号"),
      h("p", null, "验证码已发送至 ", h("strong", null, phone), "，请在下方输入短信中的 6 位验证码（24 小时内有效）。"),
      await outboxNotice(phone),
      field({ label: "短信验证码", required: true, control: input({ name: "code", inputmode: "numeric",
        autocomplete: "one-time-code", maxlength: "6" }) }),
      h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "验证手机号"), resend));
    resend.addEventListener("click", async () => {
      resend.disabled = true;
      try {
        await cognito("ResendConfirmationCode", { Username: phone });
        render(status, h("p", { class: "notice ok", role: "status" }, "新的验证码已发送，之前的验证码作废。"));
      } catch (error) {
        render(status, errorNotice(error, "发送失败"));
      } finally {
        setTimeout(() => { resend.disabled = false; }, 30000);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = form.elements.code.value.trim();
      if (!showErrors(form, /^\d{6}$/.test(code) ? {} : { code: "请填写短信中的 6 位数字验证码" })) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      render(status, h("p", { role: "status" }, "正在验证…"));
      try {
        await cognito("ConfirmSignUp", { Username: phone, ConfirmationCode: code });
        render(status);
        if (account && account.phone === phone) {
          await signIn(phone, account.password);
          announce("手机号已验证，请完成实名认证");
          location.hash = `#/realname?next=${encodeURIComponent(next)}`;
        } else {
          location.hash = `#/signin?registered=1&phone=${encodeURIComponent(phone)}&next=${encodeURIComponent(next)}`;
        }
      } catch (error) {
        render(status);
        if (["CodeMismatchException", "ExpiredCodeException"].includes(error.type)) {
          showErrors(form, { code: error.friendly });
        } else {
          render(status, errorNotice(error, "验证失败"));
        }
      } finally {
        button.disabled = false;
      }
    });
    render(holder, form);
    form.querySelector("h2").focus();
  };

  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "手机号", required: true, hint: "登录账号，接收验证码和办件进度短信", control: input({ name: "phone", type: "tel",
      inputmode: "numeric", autocomplete: "tel-national" }) }),
    field({ label: "密码", required: true, hint: "至少 8 位，包含大写字母、小写字母和数字",
      control: input({ name: "password", type: "password", autocomplete: "new-password" }) }),
    field({ label: "确认密码", required: true, control: input({ name: "password2", type: "password", autocomplete: "new-password" }) }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "注册")),
    h("p", { class: "small" }, "已有账号？", h("a", { href: `#/signin?next=${encodeURIComponent(next)}` }, "直接登录")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(["phone", "password", "password2"].map((k) => [k, form.elements[k].value.trim()]));
    const errors = {};
    if (!PHONE.test(values.phone)) errors.phone = "请填写 11 位手机号码";
    if (!strongPassword(values.password)) errors.password = PASSWORD_RULE;
    if (values.password !== values.password2) errors.password2 = "两次输入的密码不一致";
    if (!showErrors(form, errors)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    render(status, h("p", { role: "status" }, "正在注册…"));
    try {
      const answer = await signUp(values.phone, values.password);
      account = { phone: values.phone, password: values.password };
      render(status);
      if (answer.UserConfirmed) {
        await signIn(values.phone, values.password);
        location.hash = `#/realname?next=${encodeURIComponent(next)}`;
      } else {
        await confirmForm(values.phone);
      }
    } catch (error) {
      render(status, errorNotice(error, "注册失败"));
      if (error.type === "UsernameExistsException") fieldError(fieldOf(form, "phone"), error.friendly);
      if (error.type === "InvalidPasswordException") fieldError(fieldOf(form, "password"), error.friendly);
    } finally {
      button.disabled = false;
    }
  });
  render(holder, form);
  render(main,
    crumbs(["首页", "#/guide"], ["注册"]),
    heading("注册账号"),
    h("p", { class: "lead" }, "注册分三步：填写手机号和密码，输入短信验证码，再用身份证完成实名认证。实名认证后即可在网上申报事项、查看办件进度、评价服务和投诉。"),
    status, holder);
  const pending = ctx.query.get("confirm");
  if (pending && PHONE.test(pending)) await confirmForm(pending);
}

// -- 实名认证 ---------------------------------------------------------------------------------------
export async function realNamePage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const provider = await viaProvider();     // the provider's verified claim is the real-name step
  if (!ctx.alive()) return;
  if (provider) return provider.realNamePage(main, next);
  const user = session.user();
  if (verified(user)) {
    const number = user["custom:id_number"];
    render(main, crumbs(["首页", "#/guide"], ["实名认证"]), heading("实名认证"),
      h("p", { class: "notice ok", id: "real-name-done" }, `本账号已实名认证：${user.name || ""}，身份证号码 ${number.slice(0, 6)}********${number.slice(-4)}。实名信息不可更改。`),
      h("div", { class: "actions" }, h("a", { class: "btn", href: `#${next}` }, "继续")));
    return;
  }
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "姓名", required: true, hint: "与身份证上的姓名一致", control: input({ name: "name", autocomplete: "name", maxlength: "30" }) }),
    field({ label: "身份证号码", required: true, hint: "18 位，最后一位可能是 X；认证后不可更改",
      control: input({ name: "id_number", autocomplete: "off", maxlength: "18", spellcheck: "false" }) }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "提交实名认证")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    const idNumber = form.elements.id_number.value.trim().toUpperCase();
    const errors = {};
    const nameWrong = nameProblem(name);
    const numberWrong = idNumberProblem(idNumber);
    if (nameWrong) errors.name = nameWrong;
    if (numberWrong) errors.id_number = numberWrong;
    if (!showErrors(form, errors)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    render(status, h("p", { role: "status" }, "正在核验身份信息…"));
    try {
      await citizen.post("/me/real-name", { name, id_number: idNumber });
      await refreshSession();
      render(status);
      announce("实名认证成功");
      location.hash = `#${next}`;
    } catch (error) {
      render(status);
      refusal(form, status, error, next);
    } finally {
      button.disabled = false;
    }
  });
  render(main,
    crumbs(["首页", "#/guide"], ["实名认证"]),
    heading("实名认证"),
    h("p", { class: "lead" }, "请填写身份证上的姓名和身份证号码。核验通过后，该身份证号码只绑定本账号，"
      + "以此号码申报的办件（包括在窗口和代办点办理的）都会出现在“我的办件”中。"),
    user ? h("p", { class: "small" }, `当前账号：${(user.phone_number || "").replace(/^\+86/, "") || user["cognito:username"] || ""}`) : null,
    status, form);
}

/** The API's refusal of the real-name step, in Chinese, next to its field. */
function refusal(form, status, error, next) {
  if (!(error instanceof ApiError)) {
    render(status, errorNotice(error, "实名认证未完成"));
    return;
  }
  const field_ = fieldOf(form, error.field === "name" ? "name" : "id_number");
  if (error.status === 400) {
    const errors = {};
    for (const problem of error.problems.length ? error.problems : [{ field: error.field }]) {
      errors[problem.field === "name" ? "name" : "id_number"] = problem.field === "name"
        ? "姓名格式不正确，请按身份证填写" : "身份证号码不正确，请核对后重新输入";
    }
    showErrors(form, errors);
  } else if (error.status === 422) {
    fieldError(field_, "姓名与身份证号码不一致，请按身份证上的信息填写");
  } else if (error.status === 409 && error.body.bound_account) {
    const masked = error.body.bound_account.signs_in_with;
    fieldError(field_, `该身份证号码已实名绑定另一个账号（登录手机号 ${masked}），一个身份证号码只能绑定一个账号。`);
    render(status, h("div", { class: "notice warn", role: "alert", id: "bound-elsewhere" },
      h("p", null, `如果手机号 ${masked} 的账号是您本人的，请退出当前账号，用该手机号登录；忘记密码的，可通过发送到该手机的验证码重置密码。`),
      h("p", null,
        h("a", { href: `#/signin?next=${encodeURIComponent(next)}`, onclick: () => session.clear() }, "用该账号登录"), "　",
        h("a", { href: `#/reset-password?next=${encodeURIComponent(next)}`, onclick: () => session.clear() }, "找回该账号的密码"))));
  } else if (error.status === 409) {
    fieldError(field_, "本账号已绑定其他身份证号码，实名信息不可更改");
  } else if (error.status === 503) {
    render(status, h("div", { class: "notice bad", role: "alert" }, h("p", null, "实名核验服务暂时不可用，未作任何绑定，请稍后再试。")));
  } else {
    render(status, errorNotice(error, "实名认证未完成"));
  }
  form.querySelector("[aria-invalid=true]")?.focus();
}

// -- 找回密码: a code texted to the account's verified phone ----------------------------------------
export async function resetPasswordPage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const provider = await viaProvider();
  if (!ctx.alive()) return;
  if (provider) return provider.elsewherePage(main, next, "找回密码");
  const status = h("div", { "aria-live": "polite" });
  const holder = h("div");

  const newPasswordForm = async (phone) => {
    const form = h("form", { novalidate: true, class: "card", style: "max-width:520px" },
      h("h2", { tabindex: "-1" }, "设置新密码"),
      h("p", null, "如该手机号已注册，验证码已发送至 ", h("strong", null, phone), "（1 小时内有效）。"),
      await outboxNotice(phone),
      field({ label: "短信验证码", required: true, control: input({ name: "code", inputmode: "numeric",
        autocomplete: "one-time-code", maxlength: "6" }) }),
      field({ label: "新密码", required: true, hint: "至少 8 位，包含大写字母、小写字母和数字",
        control: input({ name: "password", type: "password", autocomplete: "new-password" }) }),
      field({ label: "确认新密码", required: true, control: input({ name: "password2", type: "password", autocomplete: "new-password" }) }),
      h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "重置密码")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = form.elements.code.value.trim();
      const password = form.elements.password.value;
      const errors = {};
      if (!/^\d{6}$/.test(code)) errors.code = "请填写短信中的 6 位数字验证码";
      if (!strongPassword(password)) errors.password = PASSWORD_RULE;
      if (password !== form.elements.password2.value) errors.password2 = "两次输入的密码不一致";
      if (!showErrors(form, errors)) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await cognito("ConfirmForgotPassword", { Username: phone, ConfirmationCode: code, Password: password });
        location.hash = `#/signin?reset=1&phone=${encodeURIComponent(phone)}&next=${encodeURIComponent(next)}`;
      } catch (error) {
        if (["CodeMismatchException", "ExpiredCodeException"].includes(error.type)) showErrors(form, { code: error.friendly });
        else if (error.type === "InvalidPasswordException") showErrors(form, { password: error.friendly });
        else render(status, errorNotice(error, "重置失败"));
      } finally {
        button.disabled = false;
      }
    });
    render(holder, form);
    form.querySelector("h2").focus();
  };

  const form = h("form", { novalidate: true, class: "card", style: "max-width:480px" },
    field({ label: "手机号", required: true, hint: "注册时验证过的手机号", control: input({ name: "phone", type: "tel",
      inputmode: "numeric", autocomplete: "username" }) }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "发送验证码")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = form.elements.phone.value.trim();
    if (!showErrors(form, PHONE.test(phone) ? {} : { phone: "请填写 11 位手机号码" })) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await cognito("ForgotPassword", { Username: phone });
      render(status);
      await newPasswordForm(phone);
    } catch (error) {
      render(status, errorNotice(error, "发送失败"));
    } finally {
      button.disabled = false;
    }
  });
  render(holder, form);
  render(main, crumbs(["首页", "#/guide"], ["找回密码"]), heading("找回密码"),
    h("p", { class: "lead" }, "验证码将发送到账号绑定的手机号，验证后设置新密码。"), status, holder);
}
