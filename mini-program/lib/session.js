/**
 * The signed-in user: `{ token, user, expiresAt }` under the storage key `pinlive.session`
 * (lib/realtime.js reads the token there too). Login is asked only when an action needs it.
 */
const STORAGE_KEY = 'pinlive.session';

let pendingLogin = null;
const listeners = [];

function notify(value) {
  listeners.slice().forEach((fn) => {
    try {
      fn(value);
    } catch (e) {
      console.error('session listener failed', e);
    }
  });
}

/** The stored session, or null (none, unreadable or expired). */
function getSession() {
  let value = null;
  try {
    value = wx.getStorageSync(STORAGE_KEY) || null;
  } catch (e) {
    return null;
  }
  if (!value || typeof value !== 'object' || !value.token) return null;
  if (value.expiresAt && new Date(value.expiresAt).getTime() <= Date.now()) return null;
  return value;
}

function isLoggedIn() {
  return getSession() !== null;
}

function saveSession(value) {
  wx.setStorageSync(STORAGE_KEY, value);
  notify(value);
  return value;
}

/** Forgets the session locally (a rejected token, or logout). */
function clearSession() {
  try {
    wx.removeStorageSync(STORAGE_KEY);
  } catch (e) {
    // storage unavailable: nothing to clear
  }
  notify(null);
}

function wxLoginCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success(res) {
        if (res && res.code) resolve(res.code);
        else reject(Object.assign(new Error('微信登录失败'), { code: 'WX_LOGIN_FAILED' }));
      },
      fail(err) {
        const msg = err && err.errMsg ? err.errMsg : 'wx.login failed';
        reject(Object.assign(new Error(`微信登录失败 (${msg})`), { code: 'WX_LOGIN_FAILED' }));
      },
    });
  });
}

async function login() {
  // Required here, not at the top: lib/request requires this module.
  const { request } = require('./request');
  const code = await wxLoginCode();
  const body = await request({ path: '/v1/auth/login', method: 'POST', data: { code }, auth: 'none' });
  return saveSession({ token: body.token, user: body.user, expiresAt: body.expiresAt });
}

/** The session, logging in with wx.login first when there is none; concurrent callers share one login. */
function ensureLogin() {
  const current = getSession();
  if (current) return Promise.resolve(current);
  if (!pendingLogin) {
    pendingLogin = login().then(
      (value) => {
        pendingLogin = null;
        return value;
      },
      (err) => {
        pendingLogin = null;
        throw err;
      },
    );
  }
  return pendingLogin;
}

/** Merges fresh profile fields (nickname, avatarUrl) into the stored user. */
function updateUser(patch) {
  const current = getSession();
  if (!current) return null;
  return saveSession(Object.assign({}, current, { user: Object.assign({}, current.user, patch) }));
}

/** Ends the session on the server (best effort) and forgets it here. */
async function logout() {
  const current = getSession();
  if (current) {
    const { request } = require('./request');
    try {
      await request({ path: '/v1/auth/logout', method: 'POST', auth: 'optional' });
    } catch (e) {
      // the local session goes either way; an expired token cannot log out
    }
  }
  clearSession();
}

/** Calls fn(session or null) on every login, profile change and logout; returns the unsubscribe. */
function onChange(fn) {
  listeners.push(fn);
  return () => {
    const i = listeners.indexOf(fn);
    if (i >= 0) listeners.splice(i, 1);
  };
}

module.exports = { STORAGE_KEY, getSession, isLoggedIn, ensureLogin, logout, clearSession, updateUser, onChange };
