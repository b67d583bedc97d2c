import type WebSocket from "ws";
import type { Logger } from "../log.js";

export interface AudienceOptions {
  /** The server's own base URL: the audience talks to it like any client would. */
  baseUrl: string;
  streamId: string;
  /** About this many viewers, rising and falling over a couple of minutes. */
  viewers: number;
  commentsPerSec: number;
  likesPerSec: number;
  purchasesPerMin: number;
  groupJoinsPerMin: number;
  log: Logger;
  /** Tick length (tests shorten it); rates hold per second whatever it is. */
  tickMs?: number;
}

interface Viewer {
  index: number;
  nickname: string;
  token: string;
  addressId: string;
  ws: WebSocket | null;
}

type Json = Record<string, unknown>;

const NICKNAMES = ["小鱼", "阿杰", "Mei", "茶茶", "Leo", "云朵", "Kiki", "老王", "Sunny", "橘子", "Tom", "小雨", "Nana", "阿宝", "Ivy", "大鹏"];
const COMMENTS = [
  "主播好！",
  "这个茶是今年的新茶吗？",
  "多少钱？",
  "包邮吗",
  "已下单 😄",
  "买了买了",
  "杯子颜色真好看",
  "有优惠券吗",
  "第一次来，支持一下",
  "扇子能再展示一下吗",
  "Looks great!",
  "Can you show the mug again?",
  "How many grams is the small pack?",
  "就等这个价",
  "拼团还差几个人？",
  "666",
];
const pick = <T>(a: readonly T[]): T => a[Math.floor(Math.random() * a.length)]!;
/** How many of something happen in one tick at `perSec`, the fraction drawn at random. */
const draws = (perSec: number, tickMs: number) => {
  const expected = (perSec * tickMs) / 1000;
  return Math.floor(expected) + (Math.random() < expected % 1 ? 1 : 0);
};

/**
 * A simulated audience for the demo (DEMO_AUDIENCE): WeChat-sandbox users who join and leave the
 * room over real WebSockets, comment, like, now and then buy something (paying in the sandbox; a
 * flash sale when one runs), claim the room's coupon, and open or join group buys. It uses only the
 * public API and the sandbox, as a phone would, so what the console shows is what real viewers do.
 */
export function startAudience(opts: AudienceOptions) {
  const log = opts.log.child({ part: "demo-audience" });
  const tickMs = opts.tickMs ?? 1000;
  const pool: Viewer[] = [];
  const pending = new Set<Promise<unknown>>();
  const groupPlaces = new Map<string, Set<Viewer>>();
  /** "<activity> <viewer index>" pairs at the activity's per-person limit. */
  const limited = new Set<string>();
  const runId = Math.random().toString(36).slice(2, 8);
  let newcomers = 0;
  let room: { flashSale: Json | null; coupon: Json | null } = { flashSale: null, coupon: null };
  let observer: WebSocket | null = null;
  let WebSocketCtor: typeof WebSocket | null = null;
  let stopped = false;
  let ticks = 0;
  let creating = 0;
  let products: { at: number; skus: { id: string; stock: number }[] } = { at: 0, skus: [] };
  const startedAt = Date.now();

  async function call<T = Json>(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${opts.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = (text ? JSON.parse(text) : undefined) as T & { code?: string };
    if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${parsed?.code ?? ""}`), { code: parsed?.code, status: res.status });
    return parsed;
  }

  /** Runs an action in the background; failures are logged, never thrown. */
  function spawn(what: string, run: () => Promise<unknown>) {
    const p = run().catch((err: unknown) => log.debug({ err: (err as Error).message, what }, "audience action failed"));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  /** A sandbox user with an address: the same ones every start (stable openids) unless `fresh` names a new one. */
  async function newViewer(index: number, fresh?: string): Promise<Viewer> {
    const nickname = `${pick(NICKNAMES)}${index}`;
    const { code } = await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { openid: fresh ? `demo-newcomer-${fresh}` : `demo-audience-${index}` });
    const { token } = await call<{ token: string }>("POST", "/v1/auth/login", { code, nickname });
    let addressId: string;
    try {
      addressId = (await call<{ id: string }>("GET", "/v1/addresses/default", undefined, token)).id;
    } catch {
      const address = { name: nickname, phone: `1380013${String(8000 + index).padStart(4, "0")}`, province: "浙江省", city: "杭州市", district: "西湖区", detail: `龙井路 ${index + 1} 号` };
      addressId = (await call<{ id: string }>("POST", "/v1/addresses", { ...address, isDefault: true }, token)).id;
    }
    return { index, nickname, token, addressId, ws: null };
  }

  function socketUrl() {
    return `${opts.baseUrl.replace(/^http/, "ws")}/live-stream/${encodeURIComponent(opts.streamId)}/ws`;
  }

  function connect(v: Viewer) {
    const ws = new WebSocketCtor!(socketUrl(), { headers: { authorization: `Bearer ${v.token}` }, perMessageDeflate: false });
    v.ws = ws;
    ws.on("error", () => {});
    ws.on("close", () => {
      if (v.ws === ws) v.ws = null;
    });
  }

  /** One anonymous watcher that follows the room's state (flash sale, coupon) for the others. */
  function watch() {
    const ws = new WebSocketCtor!(socketUrl(), { perMessageDeflate: false });
    observer = ws;
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(Buffer.isBuffer(data) ? data.toString() : "{}") as Json;
      if (m.type === "snapshot") {
        const state = (m.state ?? {}) as Json;
        room = { flashSale: (state.flashSale as Json | null) ?? null, coupon: (state.coupon as Json | null) ?? null };
      } else if (m.type === "flash_sale") room.flashSale = (m.sale as Json | null) ?? null;
      else if (m.type === "coupon") room.coupon = (m.coupon as Json | null) ?? null;
    });
    ws.on("close", () => {
      if (observer === ws) observer = null;
    });
  }

  /** Viewers with a socket, open or opening. */
  const connected = () => pool.filter((v) => v.ws !== null);
  const someone = () => {
    const c = pool.filter((v) => v.ws?.readyState === 1);
    return c.length > 0 ? pick(c) : null;
  };
  const send = (v: Viewer | null, message: unknown) => {
    if (v?.ws?.readyState === 1) v.ws.send(JSON.stringify(message));
  };

  /** Pays an order through the sandbox, as wx.requestPayment would. */
  async function pay(params: Json) {
    const { errMsg } = await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", params);
    if (errMsg !== "requestPayment:ok") throw new Error(errMsg);
  }

  async function purchase(v: Viewer) {
    const sale = room.flashSale;
    if (sale && Number(sale.left) > 0 && Math.random() < 0.6) {
      const order = await call<{ id: string }>("POST", `/v1/flash-sales/${String(sale.id)}/buy`, { quantity: 1, addressId: v.addressId }, v.token, { "idempotency-key": `demo-${Date.now()}-${Math.random()}` });
      return pay(await call<Json>("POST", `/v1/orders/${order.id}/pay`, {}, v.token));
    }
    if (Date.now() - products.at > 60_000) {
      const detail = await call<{ products: { id: string }[] }>("GET", `/v1/streams/${encodeURIComponent(opts.streamId)}`);
      const all = await Promise.all(detail.products.map((p) => call<{ skus: { id: string; stock: number }[] }>("GET", `/v1/products/${p.id}`)));
      products = { at: Date.now(), skus: all.flatMap((p) => p.skus) };
    }
    const inStock = products.skus.filter((s) => s.stock > 5);
    if (inStock.length === 0) return;
    const sku = pick(inStock);
    const coupon = room.coupon && Math.random() < 0.5 ? String(room.coupon.id) : undefined;
    if (coupon) await call("POST", `/v1/coupons/${coupon}/claim`, {}, v.token).catch(() => {});
    const body = { items: [{ skuId: sku.id, quantity: 1 + Math.floor(Math.random() * 2) }], addressId: v.addressId, streamId: opts.streamId };
    const key = { "idempotency-key": `demo-${Date.now()}-${Math.random()}` };
    const order = await call<{ id: string }>("POST", "/v1/orders", coupon ? { ...body, couponId: coupon } : body, v.token, key).catch(() => call<{ id: string }>("POST", "/v1/orders", body, v.token, { "idempotency-key": `${key["idempotency-key"]}-b` }));
    await pay(await call<Json>("POST", `/v1/orders/${order.id}/pay`, {}, v.token));
  }

  /**
   * Opens or joins a group of the stream's group-buy activity, then pays every place that can be
   * paid. A viewer at the activity's per-person limit sends a newcomer instead (a fresh sandbox user).
   */
  async function groupJoin(viewer: Viewer) {
    const activities = await call<{ id: string }[]>("GET", `/v1/group-activities?streamId=${encodeURIComponent(opts.streamId)}&status=active`);
    if (activities.length === 0) return;
    const activity = pick(activities);
    const v = limited.has(`${activity.id} ${viewer.index}`) ? await newViewer(viewer.index, `${runId}-${newcomers++}`) : viewer;
    try {
      await place(v, activity.id);
    } catch (err) {
      if ((err as { code?: string }).code === "LIMIT_EXCEEDED") limited.add(`${activity.id} ${v.index}`);
      throw err;
    }
    await payGroups();
  }

  /** Joins an open group with a place left (one this viewer is not in), or opens one. */
  async function place(v: Viewer, activityId: string) {
    const { openGroups } = await call<{ openGroups: { id: string; left: number; status: string }[] }>("GET", `/v1/group-activities/${activityId}`);
    const group = openGroups.find((g) => g.status === "open" && g.left > 0 && !groupPlaces.get(g.id)?.has(v));
    const placed = group
      ? await call<{ group: { id: string } }>("POST", `/v1/groups/${group.id}/join`, { addressId: v.addressId }, v.token)
      : await call<{ group: { id: string } }>("POST", `/v1/group-activities/${activityId}/groups`, { addressId: v.addressId }, v.token);
    const places = groupPlaces.get(placed.group.id) ?? new Set<Viewer>();
    places.add(v);
    groupPlaces.set(placed.group.id, places);
  }

  /** Pays held places whose group takes payment now (a leader's, a full group's); forgets ended groups. */
  async function payGroups() {
    for (const [groupId, members] of groupPlaces) {
      for (const member of members) {
        try {
          await pay(await call<Json>("POST", `/v1/groups/${groupId}/pay`, {}, member.token));
          members.delete(member);
        } catch (err) {
          const code = (err as { code?: string }).code;
          // Not payable yet (a join-first group that is not full): keep it; anything else ends the place.
          if (code !== "GROUP_NOT_FULL") members.delete(member);
        }
      }
      if (members.size === 0) groupPlaces.delete(groupId);
    }
  }

  function grow(target: number) {
    const want = Math.min(target - connected().length, Math.max(1, Math.ceil(opts.viewers / 8))) - creating;
    for (let i = 0; i < want; i++) {
      const idle = pool.find((v) => v.ws === null);
      if (idle) {
        connect(idle);
        continue;
      }
      if (pool.length + creating >= opts.viewers * 1.5) return;
      creating++;
      const index = pool.length + creating - 1;
      spawn("new viewer", async () => {
        try {
          const v = await newViewer(index);
          if (stopped) return;
          pool.push(v);
          connect(v);
        } finally {
          creating--;
        }
      });
    }
  }

  function tick() {
    if (stopped) return;
    ticks++;
    if (!observer) watch();
    // Between 55% and 100% of the audience over a 90-second swell, with people leaving and coming back.
    const t = (Date.now() - startedAt) / 1000;
    const target = Math.max(1, Math.round(opts.viewers * (0.775 + 0.225 * Math.sin((2 * Math.PI * t) / 90))) - 1);
    const here = connected();
    if (here.length > target || (here.length > 1 && Math.random() < 0.35)) pick(here).ws!.close();
    grow(target);

    for (let i = draws(opts.commentsPerSec, tickMs); i > 0; i--) send(someone(), { type: "comment", comment: { content: pick(COMMENTS) } });
    const likes = draws(opts.likesPerSec, tickMs);
    if (likes > 0) send(someone(), { type: "like", count: likes });
    if (room.coupon && Number(room.coupon.left) > 0 && Math.random() < 0.3) {
      const v = someone();
      const id = String(room.coupon.id);
      if (v) spawn("claim", () => call("POST", `/v1/coupons/${id}/claim`, {}, v.token));
    }
    for (let i = draws(opts.purchasesPerMin / 60, tickMs); i > 0; i--) {
      const v = someone();
      if (v) spawn("purchase", () => purchase(v));
    }
    for (let i = draws(opts.groupJoinsPerMin / 60, tickMs); i > 0; i--) {
      const v = someone();
      if (v) spawn("group join", () => groupJoin(v));
    }
    if (ticks % Math.max(1, Math.round(10_000 / tickMs)) === 0 && groupPlaces.size > 0) spawn("group payments", payGroups);
  }

  let timer: NodeJS.Timeout | null = null;
  const ready = import("ws").then(({ default: Ctor }) => {
    WebSocketCtor = Ctor;
    if (stopped) return;
    timer = setInterval(() => {
      try {
        tick();
      } catch (err) {
        log.warn({ err }, "audience tick failed");
      }
    }, tickMs);
    log.info({ streamId: opts.streamId, viewers: opts.viewers }, "simulated audience started");
  });

  return {
    ready,
    /** Viewers connected now (the watcher included). */
    get connected() {
      return connected().length + (observer ? 1 : 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await ready.catch(() => {});
      for (const v of pool) v.ws?.close();
      observer?.close();
      await Promise.allSettled([...pending]);
    },
  };
}

export type Audience = ReturnType<typeof startAudience>;
