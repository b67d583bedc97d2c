// HTTP helpers and provisioning through the public API: users, addresses, streams, products.
// Setup code calls these; a failure throws with what was asked and what the server answered.
import http from 'k6/http';
import { ADMIN_TOKEN, BASE_URL, USERS_VIA } from './config.js';

/** The answer to one call: status, parsed JSON body (or null), the error `code` of a refusal. */
function wrap(res) {
  let json = null;
  try {
    json = res.body ? JSON.parse(res.body) : null;
  } catch (_e) {
    json = null;
  }
  return { status: res.status, json: json, code: json && typeof json.code === 'string' ? json.code : null, ms: res.timings.duration, res: res };
}

function request(method, path, opts) {
  const o = opts || {};
  const headers = { 'content-type': 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.key) headers['idempotency-key'] = o.key;
  const params = { headers: headers, tags: { name: o.name || path } };
  if (o.tags) for (const k in o.tags) params.tags[k] = o.tags[k];
  // Statuses listed here do not count in http_req_failed (a 409 SOLD_OUT is an answer, not a failure).
  if (o.expect) params.responseCallback = http.expectedStatuses.apply(null, o.expect);
  if (o.timeout) params.timeout = o.timeout;
  return { method: method, url: BASE_URL + path, body: o.body === undefined ? null : JSON.stringify(o.body), params: params };
}

/**
 * One API call. `opts`: token, body (JSON), key (Idempotency-Key), name (the metric's `name` tag;
 * default the path, so give one for paths with ids), tags, expect (statuses that are not failures).
 */
export function call(method, path, opts) {
  const r = request(method, path, opts);
  return wrap(http.request(r.method, r.url, r.body, r.params));
}

/** Several calls at once (`[method, path, opts]` each), answers in the same order. */
export function batch(calls) {
  const reqs = calls.map((c) => request(c[0], c[1], c[2]));
  return http.batch(reqs).map(wrap);
}

/** Throws unless the answer has one of `statuses` (default any 2xx); returns its JSON body. */
export function must(r, what, statuses) {
  const ok = statuses ? statuses.indexOf(r.status) >= 0 : r.status >= 200 && r.status < 300;
  if (!ok) {
    const detail = r.json && r.json.message ? `${r.code}: ${r.json.message}` : String(r.res.error || r.res.body || '').slice(0, 300);
    throw new Error(`${what}: HTTP ${r.status} ${detail}`);
  }
  return r.json;
}

/** Runs `make(i)` → [method, path, opts] for i in 0..n-1, `width` at a time; returns every answer. */
export function inBatches(n, width, make) {
  const out = [];
  for (let start = 0; start < n; start += width) {
    const calls = [];
    for (let i = start; i < Math.min(n, start + width); i++) calls.push(make(i));
    const answers = batch(calls);
    for (let j = 0; j < answers.length; j++) out.push(answers[j]);
  }
  return out;
}

/** Stops the run early unless an admin token was given; says why the scenario needs one. */
export function requireAdmin(why) {
  if (!ADMIN_TOKEN) {
    throw new Error(
      `this scenario needs an admin: run with -e ADMIN_TOKEN=<an admin's session token> (${why}). ` +
        'Locally, `npm run demo` logs one (adminToken); `npm run k6:smoke` makes its own.',
    );
  }
  return ADMIN_TOKEN;
}

let usersVia = null;

/** How this target makes users: `dev` (POST /v1/dev/sessions) or `sandbox` (the WeChat sandbox login). */
export function userSource() {
  if (usersVia) return usersVia;
  if (USERS_VIA !== 'auto') return (usersVia = USERS_VIA);
  const dev = call('POST', '/v1/dev/sessions', { body: { nickname: 'k6 probe' }, expect: [201, 404] });
  if (dev.status === 201) {
    call('POST', '/v1/auth/logout', { token: dev.json.token, expect: [204, 401] });
    return (usersVia = 'dev');
  }
  const sandbox = call('POST', '/sandbox/wechat/login-code', { body: { openid: 'k6-probe' }, expect: [200, 201, 404] });
  if (sandbox.status === 200 || sandbox.status === 201) return (usersVia = 'sandbox');
  throw new Error(
    `${BASE_URL} has neither dev sessions (POST /v1/dev/sessions: ${dev.status}) nor the WeChat sandbox ` +
      `(POST /sandbox/wechat/login-code: ${sandbox.status}): k6 cannot make users there. See the README's "Staging".`,
  );
}

/**
 * `n` new signed-in users (`{token, userId, nickname}`); names start with `tag`. `via` forces the
 * WeChat sandbox login (`'sandbox'`: users who can pay), else the target's way (userSource).
 */
export function newUsers(n, tag, runId, via) {
  if (!via) via = userSource();
  if (via === 'dev') {
    return inBatches(n, 50, (i) => ['POST', '/v1/dev/sessions', { body: { nickname: `${tag}${i}` }, name: '/v1/dev/sessions' }]).map((r, i) => {
      const s = must(r, `dev session ${i}`);
      return { token: s.token, userId: s.userId, nickname: `${tag}${i}` };
    });
  }
  const codes = inBatches(n, 50, (i) => ['POST', '/sandbox/wechat/login-code', { body: { openid: `${runId}-${tag.replace(/[^A-Za-z0-9_-]/g, '')}${i}` }, name: '/sandbox/wechat/login-code', expect: [201, 404] }]);
  if (codes.length > 0 && codes[0].status === 404) {
    throw new Error(`${BASE_URL} has no WeChat sandbox (POST /sandbox/wechat/login-code: 404): these users log in and pay through it (WECHAT_SANDBOX=true on the target)`);
  }
  return inBatches(n, 50, (i) => ['POST', '/v1/auth/login', { body: { code: must(codes[i], `login code ${i}`).code, nickname: `${tag}${i}` }, name: '/v1/auth/login' }]).map((r, i) => {
    const s = must(r, `login ${i}`);
    return { token: s.token, userId: s.user.id, nickname: `${tag}${i}` };
  });
}

/** Ends the sessions of users a setup made (teardown); never throws. */
export function endSessions(users) {
  inBatches(users.length, 50, (i) => ['POST', '/v1/auth/logout', { token: users[i].token, expect: [204, 401], name: '/v1/auth/logout' }]);
}

const ADDRESS = { name: 'K6 Tester', phone: '13800138000', province: 'Zhejiang', city: 'Hangzhou', district: 'Xihu', detail: '1 Load Test Rd' };

/** Gives each user a (default) shipping address; sets `user.addressId`. */
export function addAddresses(users) {
  inBatches(users.length, 50, (i) => ['POST', '/v1/addresses', { token: users[i].token, body: ADDRESS, name: '/v1/addresses' }]).forEach((r, i) => {
    users[i].addressId = must(r, `address for user ${i}`).id;
  });
  return users;
}

/** A stream hosted by `host`: made by the admin when there is a token, else through the dev endpoint. */
export function createStream(title, host) {
  if (ADMIN_TOKEN) {
    const s = must(call('POST', '/v1/streams', { token: ADMIN_TOKEN, body: { title: title, hostUserId: host.userId } }), 'create stream (admin)');
    return s.id;
  }
  const r = call('POST', '/v1/dev/streams', { token: host.token, body: { title: title }, expect: [201, 404] });
  if (r.status === 404) throw new Error(`${BASE_URL} has no dev streams (POST /v1/dev/streams): give -e ADMIN_TOKEN to create the stream as an admin`);
  return must(r, 'create stream (dev)').streamId;
}

/** A listed product with one SKU of `stock` units at `priceFen` (admin); returns `{productId, skuId}`. */
export function createProduct(sn, name, priceFen, stock) {
  const p = must(
    call('POST', '/v1/admin/products', { token: requireAdmin('products are made by admins'), body: { sn: sn, name: name, skus: [{ specs: {}, priceFen: priceFen, stock: stock }] } }),
    'create product',
  );
  return { productId: p.id, skuId: p.skus[0].id };
}

/** Puts products on a stream's shelf (admin or its host). */
export function attachProducts(streamId, productIds, token) {
  must(call('PUT', `/v1/streams/${streamId}/products`, { token: token, body: { productIds: productIds }, name: '/v1/streams/:id/products' }), 'attach products');
}

/** Deletes a product the run made (teardown); never throws. */
export function deleteProduct(productId) {
  if (productId && ADMIN_TOKEN) call('DELETE', `/v1/admin/products/${productId}`, { token: ADMIN_TOKEN, expect: [200, 404], name: '/v1/admin/products/:id' });
}

/** Plays the buyer paying `wx.requestPayment` parameters in the WeChat sandbox; true when it says ok. */
export function payInSandbox(params, name) {
  const r = call('POST', '/sandbox/wechat/pay', { body: params, name: name || '/sandbox/wechat/pay', expect: [200, 400, 404, 409] });
  return { ok: r.status === 200 && r.json && /ok/.test(r.json.errMsg || ''), r: r };
}

/** Random integer in 0..n-1. */
export function randomInt(n) {
  return Math.floor(Math.random() * n);
}
