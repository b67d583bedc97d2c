/** Display helpers: money in fen, times, countdowns. */
export const yuan = (fen: number) => (fen / 100).toFixed(2);
export const price = (fen: number | null | undefined) => (fen === null || fen === undefined ? "—" : `¥${yuan(fen)}`);
/** "128.50" (or 128.5) → 12850 fen; null when it is not an amount. */
export function toFen(yuanValue: number | string): number | null {
  const n = typeof yuanValue === "number" ? yuanValue : Number(yuanValue);
  if (!Number.isFinite(n) || n < 0) return null;
  return Math.round(n * 100);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** ms → "01:02:03" (or "02:03" under an hour; "2天 01:02:03" over a day). */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hms = h > 0 || d > 0 ? `${pad(h)}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  return d > 0 ? `${d}天 ${hms}` : hms;
}

/** "14:03:05" for today, "3月5日 14:03" otherwise. */
export function clock(at: number | string | Date | null | undefined): string {
  if (at === null || at === undefined || at === "") return "—";
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return "—";
  const now = new Date();
  if (t.toDateString() === now.toDateString()) return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  return `${t.getMonth() + 1}月${t.getDate()}日 ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

export function dateTime(at: number | string | Date | null | undefined): string {
  if (at === null || at === undefined || at === "") return "—";
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return "—";
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/** A root-relative asset URL (/images/…) made absolute against this page's origin; absolute ones pass. */
export function absoluteUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, window.location.origin).toString();
  } catch {
    return undefined;
  }
}

export const compact = (n: number) => (n >= 10_000 ? `${(n / 10_000).toFixed(1)}万` : String(n));

export const STREAM_STATUS_TEXT: Record<string, string> = { idle: "未开播", live: "直播中", ended: "已结束" };
export const ORDER_STATUS_TEXT: Record<string, string> = {
  pending_payment: "待付款",
  paid: "待发货",
  shipped: "已发货",
  completed: "已完成",
  cancelled: "已取消",
  refunding: "退款中",
  refunded: "已退款",
};
