/**
 * The one HTTP wrapper: every service call goes through `request` (JSON) or `upload`
 * (wx.uploadFile). Resolves with the parsed body; rejects with an ApiError whose `code` is the
 * server's stable code, or 'NETWORK' when the server was not reached. Never shows UI itself.
 */
const config = require('../config');
const session = require('./session');

class ApiError extends Error {
  constructor(code, message, status, details, retryAfter) {
    super(message || code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status || 0;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** A key for one user action: reuse it when retrying the same tap, make a new one for a new tap. */
function newIdempotencyKey() {
  const rand = () => Math.floor(Math.random() * 0x100000000).toString(36);
  return `mp-${Date.now().toString(36)}-${rand()}-${rand()}`;
}

function queryString(query) {
  if (!query) return '';
  const parts = [];
  Object.keys(query).forEach((k) => {
    const v = query[k];
    if (v === undefined || v === null || v === '') return;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  });
  return parts.length ? `?${parts.join('&')}` : '';
}

function urlOf(path, query) {
  return config.BASE_URL.replace(/\/+$/, '') + path + queryString(query);
}

function header(headers, name) {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : headers[key];
}

function parseBody(data) {
  if (typeof data !== 'string') return data;
  if (data === '') return null;
  try {
    return JSON.parse(data);
  } catch (e) {
    return data;
  }
}

/** A wx.request / wx.uploadFile answer → the body, or an ApiError for a non-2xx status. */
function settle(statusCode, data, headers) {
  const body = parseBody(data);
  if (statusCode >= 200 && statusCode < 300) return { ok: true, body: statusCode === 204 ? null : body };
  const retryAfterText = header(headers, 'Retry-After');
  const retryAfter = retryAfterText ? Number(retryAfterText) || undefined : undefined;
  const code = body && typeof body === 'object' && body.code ? body.code : statusCode >= 500 ? 'INTERNAL' : 'HTTP_' + statusCode;
  const message = body && typeof body === 'object' && body.message ? body.message : `HTTP ${statusCode}`;
  return { ok: false, error: new ApiError(code, message, statusCode, body && body.details, retryAfter) };
}

function networkError(err) {
  const detail = err && err.errMsg ? err.errMsg : String(err);
  return new ApiError('NETWORK', `网络连接失败 (${detail})`, 0);
}

function authHeaders(auth) {
  if (auth === 'none') return {};
  const s = session.getSession();
  return s && s.token ? { Authorization: `Bearer ${s.token}` } : {};
}

function sendOnce(opts) {
  return new Promise((resolve, reject) => {
    const headers = Object.assign({ 'content-type': 'application/json' }, authHeaders(opts.auth));
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    const method = (opts.method || 'GET').toUpperCase();
    const params = {
      url: urlOf(opts.path, opts.query),
      method,
      header: headers,
      dataType: 'json',
      success(res) {
        const out = settle(res.statusCode, res.data, res.header);
        if (out.ok) resolve(out.body);
        else reject(out.error);
      },
      fail(err) {
        reject(networkError(err));
      },
    };
    if (opts.data !== undefined) params.data = opts.data;
    else if (method !== 'GET' && method !== 'DELETE') params.data = {};
    wx.request(params);
  });
}

/** Runs `send` with the session the call needs; one retry with a fresh login after AUTH_FAILED. */
async function withAuth(auth, send) {
  if (auth === 'required') await session.ensureLogin();
  const hadToken = auth !== 'none' && session.isLoggedIn();
  try {
    return await send();
  } catch (err) {
    if (!err || err.code !== 'AUTH_FAILED' || !hadToken) throw err;
    session.clearSession();
    if (auth === 'required') await session.ensureLogin();
    return send();
  }
}

/**
 * request({ path, method = 'GET', data, query, auth = 'optional', idempotencyKey }) → body.
 * auth: 'required' logs in first; 'optional' sends the token when there is one; 'none' never does.
 */
function request(opts) {
  const auth = opts.auth || 'optional';
  return withAuth(auth, () => sendOnce(Object.assign({}, opts, { auth })));
}

/** upload({ path, filePath, name = 'file', formData }) over wx.uploadFile; needs a session. */
function upload(opts) {
  return withAuth('required', () =>
    new Promise((resolve, reject) => {
      wx.uploadFile({
        url: urlOf(opts.path),
        filePath: opts.filePath,
        name: opts.name || 'file',
        formData: opts.formData || {},
        header: authHeaders('required'),
        success(res) {
          const out = settle(res.statusCode, res.data, undefined);
          if (out.ok) resolve(out.body);
          else reject(out.error);
        },
        fail(err) {
          reject(networkError(err));
        },
      });
    }),
  );
}

module.exports = { request, upload, newIdempotencyKey, ApiError };
