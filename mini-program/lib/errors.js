/** What the viewer sees when a call fails: the Chinese text of a known code, else the server's message. */
const { ERRORS } = require('./protocol');

const LOCAL_TEXT = {
  NETWORK: '网络不给力，请检查网络后重试',
  WX_LOGIN_FAILED: '微信登录失败，请重试',
  PAY_CANCELLED: '已取消支付',
  PAY_FAILED: '支付未完成，请重试',
};
const FALLBACK = '出错了，请稍后再试';

/** The text for an error: known code → Chinese, otherwise the server's message or the fallback. */
function errorText(err, fallbackTitle) {
  if (!err) return fallbackTitle || FALLBACK;
  if (typeof err === 'string') return err;
  const code = err.code;
  if (code && LOCAL_TEXT[code]) return LOCAL_TEXT[code];
  const entry = code && ERRORS && Object.prototype.hasOwnProperty.call(ERRORS, code) ? ERRORS[code] : null;
  if (entry && entry.zh) return entry.zh;
  if (err.message) return err.message;
  if (err.errMsg) return err.errMsg;
  return fallbackTitle || FALLBACK;
}

/** A toast with the error's text; logs the error; never throws. */
function showError(err, fallbackTitle) {
  const title = errorText(err, fallbackTitle);
  try {
    console.warn('[pinlive]', (err && err.code) || '', title, (err && err.message) || '');
    wx.showToast({ title, icon: 'none', duration: 2500, fail: () => {} });
  } catch (e) {
    // a toast that cannot show must not break the caller's catch block
  }
  return title;
}

module.exports = { showError, errorText };
