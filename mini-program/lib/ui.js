/**
 * Callback-style wrappers of wx UI and navigation calls. Called without callbacks, wx APIs return
 * promises whose rejections (a navigation refused, a toast over a closing page) nobody handles;
 * these pass callbacks, log failures, and never throw.
 */
function logFail(what) {
  return (err) => console.warn(`[pinlive] ${what} failed`, err && err.errMsg ? err.errMsg : err);
}

function toast(title, icon) {
  wx.showToast({ title, icon: icon || 'none', duration: 2000, fail: logFail('showToast') });
}

function showLoading(title) {
  wx.showLoading({ title: title || '加载中', mask: true, fail: logFail('showLoading') });
}

/**
 * Hides the loading toast only: WeChat's toast and loading share one slot, and by default
 * hideLoading also takes away an error toast shown meanwhile (the catch block's, before `finally`).
 */
function hideLoading() {
  wx.hideLoading({ noConflict: true, fail: () => {} });
}

/** Runs fn() with the loading toast shown; always hides it. */
async function withLoading(title, fn) {
  showLoading(title);
  try {
    return await fn();
  } finally {
    hideLoading();
  }
}

/** A confirm dialog → Promise<boolean> (true when confirmed); never rejects. */
function confirm(content, opts) {
  const o = opts || {};
  return new Promise((resolve) => {
    wx.showModal({
      title: o.title || '提示',
      content,
      confirmText: o.confirmText || '确定',
      cancelText: o.cancelText || '取消',
      confirmColor: '#fa2c19',
      success: (res) => resolve(!!(res && res.confirm)),
      fail: () => resolve(false),
    });
  });
}

const TAB_PAGES = ['/pages/home/index', '/pages/category/index', '/pages/cart/index', '/pages/usercenter/index'];

/** Opens a page: switchTab for tab pages, navigateTo otherwise. */
function navigate(url) {
  const path = url.split('?')[0];
  if (TAB_PAGES.indexOf(path) >= 0) wx.switchTab({ url: path, fail: logFail('switchTab') });
  else wx.navigateTo({ url, fail: logFail('navigateTo') });
}

function redirect(url) {
  wx.redirectTo({ url, fail: logFail('redirectTo') });
}

/** Back one page, or home when there is nothing to go back to. */
function back() {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : [];
  if (pages.length > 1) wx.navigateBack({ delta: 1, fail: logFail('navigateBack') });
  else navigate('/pages/home/index');
}

function stopPullDownRefresh() {
  wx.stopPullDownRefresh({ fail: () => {} });
}

/** A query string from an object, skipping empty values. */
function qs(params) {
  const parts = [];
  Object.keys(params || {}).forEach((k) => {
    const v = params[k];
    if (v !== undefined && v !== null && v !== '') parts.push(`${k}=${encodeURIComponent(String(v))}`);
  });
  return parts.length ? `?${parts.join('&')}` : '';
}

module.exports = { toast, showLoading, hideLoading, withLoading, confirm, navigate, redirect, back, stopPullDownRefresh, qs };
