// 工作台: the staff member's own sign-in and signed calls. A department's staff member signs in as
// themself (the staff user pool, then the staff identity pool's one-hour credentials, kept in this
// tab's sessionStorage only, apart from the supervision board's); every call is SigV4-signed
// (service execute-api). Who they are: the name the ID token carries, the department of their
// staff id, and their role and rights as the server states them (GET /staff/me).
import { AwsClient } from "/web/vendor/aws4fetch.esm.mjs";
import { ApiError, decodeJwt, readAnswer, reference } from "./api.mjs";
import { uuid } from "./ui.mjs";

const KEY = "bz.workstation";

// What each right is called on screen; which rights a person holds comes from the server (GET /staff/me).
export const RIGHT_NAMES = {
  register_walk_ins: "窗口登记", read_department_cases: "查阅本部门办件", pre_review: "受理（预审）",
  decide_branches: "审核决定", approve_extensions: "延期审批", run_special_procedures: "特别程序",
  answer_supervised_tasks: "答复督办事项", appeal_ratings: "差评申诉", read_department_cards: "查阅本部门红黄牌",
};

/** The signed-in staff member ({staff, name, department, role, role_name, rights, id, secret, token, expires}), while valid. */
export function current() {
  try {
    const k = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return k?.id && k?.secret && k?.token && k.expires * 1000 > Date.now() + 30_000 ? k : null;
  } catch {
    return null;
  }
}

export function may(right, who = current()) {
  return Boolean(who && (who.rights || []).includes(right));
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

/** The staff user pool's sign-in: the login the identity pool takes (the board signs in the same way). */
export async function passwordLogin(staffId, password) {
  const { staff } = await reference.config();
  if (!staff?.client_id) throw new ApiError(403, { message: "本部署通过政务OA单点登录，请从OA进入" });
  const auth = await cognitoCall(staff.endpoint, "AWSCognitoIdentityProviderService.InitiateAuth", {
    ClientId: staff.client_id, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: staffId, PASSWORD: password } });
  const token = auth.AuthenticationResult?.IdToken;
  if (!token) throw new ApiError(403, { message: `需要完成额外验证（${auth.ChallengeName || "未知"}）` });
  return { logins: { [staff.login_provider]: token }, token };
}

/** The staff identity pool's one-hour credentials for a verified login. */
export async function credentialsFor(logins) {
  const { staff } = await reference.config();
  const { IdentityId } = await cognitoCall(staff.identity_endpoint, "AWSCognitoIdentityService.GetId", {
    IdentityPoolId: staff.identity_pool_id, Logins: logins });
  const { Credentials } = await cognitoCall(staff.identity_endpoint,
    "AWSCognitoIdentityService.GetCredentialsForIdentity", { IdentityId, Logins: logins });
  return Credentials;
}

/** Signs in, then asks the server who this is (GET /staff/me: department, hall, role, rights). */
export async function signIn(staffId, password) {
  const { logins, token } = await passwordLogin(staffId, password);
  return federate(logins, staffId, token);
}

/** The identity pool's credentials for a verified sign-in (the staff user pool's ID token, or the
 * OA single sign-on's), then the person as the server knows them. */
export async function federate(logins, staffId = "", token = "") {
  const c = await credentialsFor(logins);
  const claims = decodeJwt(token) || {};
  const id = String(claims["cognito:username"] || staffId).toUpperCase();
  const who = { staff: id, name: claims.name || id,
    id: c.AccessKeyId, secret: c.SecretKey, token: c.SessionToken, expires: c.Expiration };
  sessionStorage.setItem(KEY, JSON.stringify(who));
  try {
    const me = await call("GET", "/staff/me");
    Object.assign(who, { staff: me.staff_id, name: me.name, department: me.department,
      department_name: me.department_name || me.office_name || me.agent_point_name, hall: me.hall,
      hall_name: me.hall_name, office: me.office, kind: me.kind, role: me.role, role_name: me.role_name,
      rights: me.rights });
  } catch (error) {
    signOut();
    throw error;
  }
  sessionStorage.setItem(KEY, JSON.stringify(who));
  return who;
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
