// 工作台: the staff member's own sign-in and signed calls. A department's staff member signs in as
// themself (the staff user pool, then the staff identity pool's one-hour credentials, kept in this
// tab's sessionStorage only, apart from the supervision board's); every call is SigV4-signed
// (service execute-api). Who they are: the name the ID token carries, the department of their
// staff id, and their role as the server's rights show it (rights.py, mirrored in RIGHTS below).
import { AwsClient } from "/web/vendor/aws4fetch.esm.mjs";
import { ApiError, decodeJwt, readAnswer, reference } from "./api.mjs";
import { uuid } from "./ui.mjs";

const KEY = "bz.workstation";

export const ROLE_NAMES = {
  window_clerk: "窗口受理", approver: "审核", section_chief: "科室负责人", chief_representative: "首席代表",
};

// chalicelib/domain/rights.py: the rights of each department role.
export const RIGHTS = {
  window_clerk: ["register_walk_ins", "read_department_cases", "pre_review"],
  approver: ["read_department_cases", "decide_branches"],
  section_chief: ["read_department_cases", "decide_branches", "approve_extensions", "run_special_procedures",
    "answer_supervised_tasks", "appeal_ratings"],
  chief_representative: ["read_department_cases", "approve_extensions", "run_special_procedures",
    "answer_supervised_tasks", "appeal_ratings", "read_department_cards"],
};

export const RIGHT_NAMES = {
  register_walk_ins: "窗口登记", read_department_cases: "查阅本部门办件", pre_review: "受理（预审）",
  decide_branches: "审核决定", approve_extensions: "延期审批", run_special_procedures: "特别程序",
  answer_supervised_tasks: "答复督办事项", appeal_ratings: "差评申诉", read_department_cards: "查阅本部门红黄牌",
};

/** The signed-in staff member ({staff, name, department, role, id, secret, token, expires}), while valid. */
export function current() {
  try {
    const k = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return k?.id && k?.secret && k?.token && k.expires * 1000 > Date.now() + 30_000 ? k : null;
  } catch {
    return null;
  }
}

export function may(right, who = current()) {
  return Boolean(who && (RIGHTS[who.role] || []).includes(right));
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  client = null;
}

/** A call to the staff user pool or identity pool (the board signs in the same way). */
export async function cognitoCall(endpoint, target, payload) {
  let response;
  try {
    response = await fetch(endpoint.replace(/\/?$/, "/"), {
      method: "POST", body: JSON.stringify(payload),
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target } });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type || "Error").split("#").pop();
    const words = { NotAuthorizedException: "工号或密码不正确，或账号已停用", UserNotFoundException: "工号或密码不正确" };
    throw new ApiError(response.status, { message: words[type] || data.message || type });
  }
  return data;
}

/** Signs in, then learns the department and the role (see roleOf). */
export async function signIn(staffId, password) {
  const { staff } = await reference.config();
  if (!staff?.client_id) throw new ApiError(403, { message: "本部署通过政务OA单点登录，请从OA进入" });
  const auth = await cognitoCall(staff.endpoint, "AWSCognitoIdentityProviderService.InitiateAuth", {
    ClientId: staff.client_id, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: staffId, PASSWORD: password } });
  const token = auth.AuthenticationResult?.IdToken;
  if (!token) throw new ApiError(403, { message: `需要完成额外验证（${auth.ChallengeName || "未知"}）` });
  const logins = { [staff.login_provider]: token };
  const { IdentityId } = await cognitoCall(staff.identity_endpoint, "AWSCognitoIdentityService.GetId", {
    IdentityPoolId: staff.identity_pool_id, Logins: logins });
  const { Credentials: c } = await cognitoCall(staff.identity_endpoint,
    "AWSCognitoIdentityService.GetCredentialsForIdentity", { IdentityId, Logins: logins });
  const claims = decodeJwt(token) || {};
  const id = String(claims["cognito:username"] || staffId).toUpperCase();
  const who = { staff: id, name: claims.name || id, department: id.replace(/-\d+$/, ""),
    id: c.AccessKeyId, secret: c.SecretKey, token: c.SessionToken, expires: c.Expiration };
  sessionStorage.setItem(KEY, JSON.stringify(who));
  try {
    who.role = await roleOf();
  } catch (error) {
    signOut();
    throw error;
  }
  const names = await reference.departmentNames().catch(() => ({}));
  who.department_name = names[who.department] || who.department;
  sessionStorage.setItem(KEY, JSON.stringify(who));
  return who;
}

/** The role, from what the server lets the person do: no route names it, so each right that sets
 * the department roles apart is asked with a call that changes nothing (an empty body, refused with
 * 400 or 422 once the right is granted, 403 naming it otherwise). */
async function roleOf() {
  await call("GET", "/department/tasks");          // 403: not a department's staff member
  const held = async (method, path) => {
    try {
      await call(method, path, method === "GET" ? undefined : {});
      return true;
    } catch (error) {
      if ([400, 404, 409, 422].includes(error.status)) return true;
      if (error.status === 403) return false;
      throw error;
    }
  };
  if (await held("GET", "/department/cards")) return "chief_representative";
  if (await held("POST", "/department/cases")) return "window_clerk";
  if (await held("POST", "/department/supervised-tasks/-/answer")) return "section_chief";
  return "approver";
}

let client = null;
/** A signed call; an Idempotency-Key on every POST. */
export async function call(method, path, body) {
  const k = current();
  if (!k) throw new ApiError(401, { message: "请先登录工作台" });
  if (!client || client.accessKeyId !== k.id || client.sessionToken !== k.token) {
    const { staff } = await reference.config();
    client = new AwsClient({ accessKeyId: k.id, secretAccessKey: k.secret, sessionToken: k.token,
      service: "execute-api", region: staff.region, retries: 0 });
  }
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = uuid();
  let response;
  try {
    response = await client.fetch(`${location.origin}${path}`, { method, headers,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null);
  }
  return readAnswer(response);
}

/** An error in words for the staff member: a 403 names the right they lack, in Chinese. */
export function refusal(error) {
  const right = error?.body?.right;
  if (error?.status === 403 && right) {
    return `您的岗位没有“${RIGHT_NAMES[right] || right}”权限（${right}），此操作须由具备该权限的工作人员办理`;
  }
  if (error?.status === 403 && /asked for this extension/.test(error.message)) {
    return "本人申请的延期须由其他负责人或首席代表批准，不能自行批准";
  }
  return error?.friendly || error?.message || String(error);
}
