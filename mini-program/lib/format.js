/** Display formatting: money (integer fen in, yuan text out), countdowns, times, asset URLs. */
const config = require('../config');

function pad2(n) {
  return n < 10 ? `0${n}` : String(n);
}

/** 12800 → '128.00'; never floating-point arithmetic on money. */
function yuan(fen) {
  const n = Math.round(Number(fen) || 0);
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  return `${sign}${Math.floor(abs / 100)}.${pad2(abs % 100)}`;
}

/** 12800 → '¥128.00'. */
function price(fen) {
  return `¥${yuan(fen)}`;
}

/** Milliseconds left → '01:02:03', or '2天 01:02:03' past a day; never negative. */
function countdown(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const days = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const clock = `${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  return days > 0 ? `${days}天 ${clock}` : clock;
}

/** A root-relative URL from the server ('/images/…') resolved against BASE_URL; others unchanged. */
function assetUrl(url) {
  if (!url) return '';
  if (url.charAt(0) === '/' && url.charAt(1) !== '/') return config.BASE_URL.replace(/\/+$/, '') + url;
  return url;
}

function toTime(value) {
  if (value === null || value === undefined || value === '') return NaN;
  return typeof value === 'number' ? value : new Date(value).getTime();
}

/** '2024-05-01 08:30' in local time. */
function dateTime(value) {
  const t = toTime(value);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** '刚刚', '5分钟前', '3小时前', '2天前' (or '5分钟后' for a future time); a date past a week. */
function relativeTime(value, now) {
  const t = toTime(value);
  if (Number.isNaN(t)) return '';
  const diff = (now === undefined ? Date.now() : now) - t;
  const future = diff < 0;
  const abs = Math.abs(diff);
  const suffix = future ? '后' : '前';
  if (abs < 60 * 1000) return future ? '即将' : '刚刚';
  if (abs < 3600 * 1000) return `${Math.floor(abs / 60000)}分钟${suffix}`;
  if (abs < 86400 * 1000) return `${Math.floor(abs / 3600000)}小时${suffix}`;
  if (abs < 7 * 86400 * 1000) return `${Math.floor(abs / 86400000)}天${suffix}`;
  return dateTime(t).slice(0, 10);
}

/** { weight: '250 g', color: 'celadon' } → '250 g / celadon'. */
function specText(specs) {
  if (!specs) return '';
  return Object.keys(specs)
    .map((k) => specs[k])
    .join(' / ');
}

/** 12345 → '1.2万' for viewer counts; smaller numbers as they are. */
function count(n) {
  const v = Number(n) || 0;
  if (v >= 10000) return `${(Math.floor(v / 1000) / 10).toFixed(1)}万`;
  return String(v);
}

/** '13800138000' → '138****8000'. */
function maskPhone(phone) {
  return typeof phone === 'string' && phone.length === 11 ? `${phone.slice(0, 3)}****${phone.slice(7)}` : phone || '';
}

const ORDER_STATUS_TEXT = {
  pending_payment: '待付款',
  paid: '待发货',
  shipped: '待收货',
  completed: '已完成',
  cancelled: '已取消',
  refunding: '退款中',
  refunded: '已退款',
};

/** 'pending_payment' → '待付款'. */
function orderStatusText(status) {
  return ORDER_STATUS_TEXT[status] || status || '';
}

module.exports = { orderStatusText, yuan, price, countdown, assetUrl, dateTime, relativeTime, specText, count, maskPhone };
