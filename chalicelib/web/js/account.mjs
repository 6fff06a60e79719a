// Sign up and sign in through Cognito's own JSON API (no SDK): SignUp, ConfirmSignUp, InitiateAuth
// with USER_PASSWORD_AUTH. The ID token goes to sessionStorage and, from there, to the API.
import { reference, session } from "./api.mjs";
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
  const token = answer.AuthenticationResult?.IdToken;
  if (!token) throw new CognitoError("Challenge", `需要完成额外验证（${answer.ChallengeName || "未知"}）`);
  session.set(token);
  return token;
}

function signUp({ phone, password, name, idNumber }) {
  return cognito("SignUp", { Username: phone, Password: password, UserAttributes: [
    { Name: "name", Value: name },
    { Name: "phone_number", Value: `+86${phone}` },
    { Name: "custom:id_number", Value: idNumber },
  ] });
}

function confirmSignUp(phone, code) {
  return cognito("ConfirmSignUp", { Username: phone, ConfirmationCode: code });
}

function safeNext(next) {
  return next && next.startsWith("/") && !next.startsWith("/signin") && !next.startsWith("/signup") ? next : "/cases";
}

const PHONE = /^1[3-9]\d{9}$/;

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

export async function signInPage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const user = session.user();
  if (user && !ctx.query.get("expired")) {
    render(main, crumbs(["首页", "#/guide"], ["登录"]), heading("您已登录"),
      h("p", { class: "notice ok" }, `当前账号：${user.name || ""}（${user.phone_number || ""}）。`),
      h("div", { class: "actions" }, h("a", { class: "btn", href: `#${next}` }, "继续"),
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
    h("p", { class: "small" }, "还没有账号？", h("a", { href: `#/signup?next=${encodeURIComponent(next)}` }, "注册新账号")));
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
      location.hash = `#${next}`;
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
    h("p", { class: "lead" }, "使用注册时的手机号和密码登录，办理网上申报、查看办件进度和评价。"),
    status, form);
}

export async function signUpPage(main, ctx) {
  const next = safeNext(ctx.query.get("next"));
  const status = h("div", { "aria-live": "polite" });
  const holder = h("div");
  let account = null;

  const confirmForm = (phone) => {
    const form = h("form", { novalidate: true, class: "card", style: "max-width:520px" },
      h("h2", { tabindex: "-1" }, "验证手机号"),
      h("p", null, "验证码已发送至 ", h("strong", null, phone), "，请在下方输入短信中的 6 位验证码。"),
      field({ label: "短信验证码", required: true, control: input({ name: "code", inputmode: "numeric",
        autocomplete: "one-time-code", maxlength: "8" }) }),
      h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "验证并登录")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = form.elements.code.value.trim();
      if (!showErrors(form, /^\d{4,8}$/.test(code) ? {} : { code: "请填写短信验证码（数字）" })) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      render(status, h("p", { role: "status" }, "正在验证…"));
      try {
        await confirmSignUp(phone, code);
        if (account && account.phone === phone) {
          await signIn(phone, account.password);
          announce("注册成功，已登录");
          location.hash = `#${next}`;
        } else {
          location.hash = `#/signin?registered=1&phone=${encodeURIComponent(phone)}&next=${encodeURIComponent(next)}`;
        }
      } catch (error) {
        render(status, errorNotice(error, "验证失败"));
      } finally {
        button.disabled = false;
      }
    });
    render(holder, form);
    form.querySelector("h2").focus();
  };

  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" },
    field({ label: "姓名（或企业名称）", required: true, control: input({ name: "name", autocomplete: "name", maxlength: "60" }) }),
    field({ label: "手机号", required: true, hint: "登录账号，接收办件进度短信", control: input({ name: "phone", type: "tel",
      inputmode: "numeric", autocomplete: "tel-national" }) }),
    field({ label: "身份证号码或统一社会信用代码", required: true, hint: "18 位，用于实名办事，注册后不可修改",
      control: input({ name: "id_number", autocomplete: "off", maxlength: "18" }) }),
    field({ label: "密码", required: true, hint: "至少 8 位，包含大写字母、小写字母和数字",
      control: input({ name: "password", type: "password", autocomplete: "new-password" }) }),
    field({ label: "确认密码", required: true, control: input({ name: "password2", type: "password", autocomplete: "new-password" }) }),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "注册")),
    h("p", { class: "small" }, "已有账号？", h("a", { href: `#/signin?next=${encodeURIComponent(next)}` }, "直接登录")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(["name", "phone", "id_number", "password", "password2"]
      .map((k) => [k, form.elements[k].value.trim()]));
    values.id_number = values.id_number.toUpperCase();
    const errors = {};
    if (values.name.length < 2) errors.name = "请填写姓名（至少 2 个字）";
    if (!PHONE.test(values.phone)) errors.phone = "请填写 11 位手机号码";
    if (!/^[0-9A-Z]{18}$/.test(values.id_number)) errors.id_number = "请填写 18 位身份证号码或统一社会信用代码";
    if (!(values.password.length >= 8 && /[a-z]/.test(values.password) && /[A-Z]/.test(values.password) && /\d/.test(values.password))) {
      errors.password = "密码至少 8 位，且包含大写字母、小写字母和数字";
    }
    if (values.password !== values.password2) errors.password2 = "两次输入的密码不一致";
    if (!showErrors(form, errors)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    render(status, h("p", { role: "status" }, "正在注册…"));
    try {
      const answer = await signUp({ phone: values.phone, password: values.password, name: values.name,
        idNumber: values.id_number });
      account = { phone: values.phone, password: values.password };
      render(status);
      if (answer.UserConfirmed) {
        await signIn(values.phone, values.password);
        location.hash = `#${next}`;
      } else {
        confirmForm(values.phone);
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
    h("p", { class: "lead" }, "实名注册后即可在网上申报事项、查看办件进度、评价服务和投诉。"),
    status, holder);
  const pending = ctx.query.get("confirm");
  if (pending && PHONE.test(pending)) confirmForm(pending);
}
