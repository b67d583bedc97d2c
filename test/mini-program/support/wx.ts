/**
 * `wx` for pages under test: WeChat's platform APIs the mini program uses, over the real network
 * against the test's server. Nothing here answers for the server: requests, sockets, login codes
 * and payments all reach it (login and pay through its WeChat sandbox). UI calls are recorded.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import WebSocket from "ws";

type Callbacks = { success?: (res: unknown) => void; fail?: (err: unknown) => void; complete?: (res: unknown) => void };
type AnyOpts = Record<string, unknown> & Callbacks;

/** Calls success/fail + complete like WeChat does, asynchronously; returns a promise when no callback was given. */
function answer(opts: AnyOpts | undefined, run: () => Promise<Record<string, unknown>>, promiseStyle = true): Promise<unknown> | undefined {
  const o = opts ?? {};
  const wantsPromise = promiseStyle && !o.success && !o.fail && !o.complete;
  const p = run().then(
    (res) => {
      o.success?.(res);
      o.complete?.(res);
      return res;
    },
    (err: unknown) => {
      const res = err instanceof Error ? { errMsg: err.message } : (err as Record<string, unknown>);
      o.fail?.(res);
      o.complete?.(res);
      if (wantsPromise) throw Object.assign(new Error(String(res.errMsg)), res);
      return res;
    },
  );
  if (wantsPromise) return p;
  p.catch(() => {});
  return undefined;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));
/** A string option, or the default when it is missing or not a string. */
const str = (v: unknown, def = "") => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : def);

export interface Toast {
  title: string;
  icon: string;
  at: number;
  /** How long it shows (ms; WeChat's default 1500). */
  duration: number;
  /**
   * Taken off the screen before its time: WeChat's toast and loading share one slot, and
   * hideLoading (without `noConflict`) or hideToast removes whichever of the two is showing.
   */
  cutShort?: boolean;
}
export interface Modal {
  title: string;
  content: string;
  showCancel: boolean;
  confirmed: boolean;
  at: number;
}
export interface Navigation {
  kind: "navigateTo" | "redirectTo" | "switchTab" | "reLaunch" | "navigateBack";
  url: string;
  delta?: number;
  channel?: EventChannel;
  at: number;
}
export interface Payment {
  params: Record<string, unknown>;
  errMsg: string;
  at: number;
}

/** WeChat's EventChannel between a page and the page it opened (navigateTo's `events` / `getOpenerEventChannel`). */
export class EventChannel {
  private listeners = new Map<string, ((data: unknown) => void)[]>();
  private buffered: [string, unknown][] = [];
  emit(event: string, data?: unknown) {
    const ls = this.listeners.get(event);
    if (ls?.length) for (const l of ls) l(data);
    else this.buffered.push([event, data]);
  }
  on(event: string, fn: (data: unknown) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    const waiting = this.buffered.filter(([e]) => e === event);
    this.buffered = this.buffered.filter(([e]) => e !== event);
    for (const [, d] of waiting) fn(d);
  }
  once(event: string, fn: (data: unknown) => void) {
    const wrapped = (d: unknown) => {
      this.off(event, wrapped);
      fn(d);
    };
    this.on(event, wrapped);
  }
  off(event: string, fn?: (data: unknown) => void) {
    this.listeners.set(event, fn ? (this.listeners.get(event) ?? []).filter((l) => l !== fn) : []);
  }
}

/** One phone: its own storage and WeChat account (openid). */
export class Device {
  readonly storage = new Map<string, unknown>();
  constructor(
    readonly name: string,
    readonly openid: string,
  ) {}
}

/** A wx.connectSocket socket as the test sees it: its frames, and a way to cut it. */
export class TestSocket {
  readonly received: Record<string, unknown>[] = [];
  readonly sent: string[] = [];
  opened = false;
  closeCode: number | null = null;
  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
    readonly ws: WebSocket,
  ) {}
  /** Frames held back by `hold()` (a slow network): delivered in order by `release()`. */
  held: (() => void)[] | null = null;
  /** The connection dies with no close frame (the client sees 1006), as when a phone loses the network. */
  drop() {
    this.ws.terminate();
  }
  /** A slow network: frames from the server wait on this phone until `release()`. */
  hold() {
    this.held ??= [];
  }
  release() {
    const held = this.held ?? [];
    this.held = null;
    for (const deliver of held) deliver();
  }
  get closed() {
    return this.closeCode !== null;
  }
}

/**
 * The platform: `install()` puts it at `globalThis.wx`. Everything a test asserts on is recorded
 * here (toasts, modals, loading, navigations, payments, sockets, requests in flight).
 */
export class WxPlatform {
  baseUrl = "";
  readonly toasts: Toast[] = [];
  readonly modals: Modal[] = [];
  readonly navigations: Navigation[] = [];
  readonly payments: Payment[] = [];
  readonly sockets: TestSocket[] = [];
  /** The title of the loading toast on screen, or null. */
  loading: string | null = null;
  /** What WeChat's one toast/loading slot shows: the last toast, or the loading, or nothing. */
  private prompt: Toast | "loading" | null = null;
  /** A hide call empties the slot (`mixes`: a loading call may take a toast away, as by default). */
  private hidePrompt(mixes: boolean, kind: "loading" | "toast") {
    const shown = this.prompt;
    if (shown === null) return;
    if (shown === "loading" ? kind === "loading" || mixes : kind === "toast" || mixes) {
      if (shown !== "loading" && Date.now() - shown.at < shown.duration) shown.cutShort = true;
      this.prompt = null;
    }
  }
  readonly loadingShown: string[] = [];
  /** Answers for the next showModal calls (true: confirm); confirm when empty. */
  readonly modalAnswers: boolean[] = [];
  /** The next wx.requestPayment is cancelled by the user (the sandbox is not asked). */
  cancelNextPayment = false;
  /** Files for the next chooseMedia/chooseImage/chooseAvatar (local paths). */
  readonly chosenFiles: string[] = [];
  online = true;
  inFlight = 0;
  device: Device;
  private readonly devices = new Map<string, Device>();
  private networkListeners: ((res: { isConnected: boolean; networkType: string }) => void)[] = [];

  constructor() {
    this.device = this.useDevice("default");
  }

  /** Switches to a phone (made on first use): its own storage and WeChat account. */
  useDevice(name: string) {
    let d = this.devices.get(name);
    if (!d) {
      d = new Device(name, `mp_${randomBytes(9).toString("hex")}`);
      this.devices.set(name, d);
    }
    this.device = d;
    return d;
  }

  /** Loses the network: open sockets die, requests and new sockets fail, listeners hear it. */
  goOffline() {
    this.online = false;
    for (const s of this.sockets) if (!s.closed) s.drop();
    for (const l of this.networkListeners.slice()) l({ isConnected: false, networkType: "none" });
  }

  goOnline() {
    this.online = true;
    for (const l of this.networkListeners.slice()) l({ isConnected: true, networkType: "wifi" });
  }

  openSockets() {
    return this.sockets.filter((s) => s.opened && !s.closed);
  }

  private url(raw: unknown, api: string) {
    const url = str(raw);
    if (!/^(https?|wss?):\/\//.test(url)) throw new Error(`${api}:fail invalid url "${url}"`);
    return url;
  }

  private async http(method: string, url: string, headers: Record<string, string>, body?: string | Buffer) {
    if (!this.online) throw new Error("request:fail network is down");
    this.inFlight++;
    try {
      const res = await fetch(url, { method, headers, body: typeof body === "string" || body === undefined ? body : new Uint8Array(body) });
      const text = await res.text();
      const header: Record<string, string> = {};
      res.headers.forEach((v, k) => (header[k] = v));
      return { status: res.status, text, header };
    } catch (err) {
      throw new Error(`request:fail ${(err as Error).message}`);
    } finally {
      this.inFlight--;
    }
  }

  /** The wx object the pages see. `base` supplies harmless platform mocks (miniprogram-simulate's). */
  build(base: Record<string, unknown>) {
    const storage = () => this.device.storage;
    const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
    const sys = {
      brand: "devtools",
      model: "iPhone 12",
      pixelRatio: 2,
      screenWidth: 375,
      screenHeight: 812,
      windowWidth: 375,
      windowHeight: 812,
      statusBarHeight: 44,
      platform: "devtools",
      SDKVersion: "3.3.0",
      language: "zh_CN",
      version: "8.0.40",
      safeArea: { left: 0, right: 375, top: 44, bottom: 778, width: 375, height: 734 },
    };
    const wx: Record<string, unknown> = {
      ...base,
      canIUse: () => true,
      getSystemInfoSync: () => ({ ...sys }),
      getWindowInfo: () => ({ ...sys }),
      getDeviceInfo: () => ({ ...sys }),
      getAppBaseInfo: () => ({ SDKVersion: sys.SDKVersion, language: "zh_CN", version: sys.version, theme: "light" }),
      getSystemInfo: (o: AnyOpts) => answer(o, () => Promise.resolve({ ...sys, errMsg: "getSystemInfo:ok" })),
      getMenuButtonBoundingClientRect: () => ({ width: 87, height: 32, top: 48, right: 368, bottom: 80, left: 281 }),
      getAccountInfoSync: () => ({ miniProgram: { appId: "wxtest", envVersion: "develop", version: "" } }),

      // ---- network (real) ----
      request: (o: AnyOpts) => {
        let aborted = false;
        void answer(o, async () => {
          const method = str(o.method, "GET").toUpperCase();
          let url = this.url(o.url, "request");
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries((o.header as Record<string, unknown>) ?? {})) headers[k.toLowerCase()] = str(v);
          let body: string | undefined;
          if (o.data !== undefined && o.data !== null) {
            if (method === "GET" || method === "DELETE" || method === "HEAD") {
              if (typeof o.data === "object") {
                const q = new URLSearchParams();
                for (const [k, v] of Object.entries(o.data as Record<string, unknown>)) if (v !== undefined) q.set(k, typeof v === "object" ? JSON.stringify(v) : str(v));
                const qs = q.toString();
                if (qs) url += (url.includes("?") ? "&" : "?") + qs;
              }
            } else {
              headers["content-type"] ??= "application/json";
              body = typeof o.data === "string" ? o.data : JSON.stringify(o.data);
            }
          }
          const res = await this.http(method, url, headers, body);
          if (aborted) throw new Error("request:fail abort");
          let data: unknown = res.text;
          if (o.dataType !== "text" && res.text) {
            try {
              data = JSON.parse(res.text);
            } catch {
              data = res.text;
            }
          }
          return { statusCode: res.status, data, header: res.header, cookies: [], errMsg: "request:ok" };
        }, false);
        return { abort: () => (aborted = true), onHeadersReceived() {}, offHeadersReceived() {}, onChunkReceived() {}, offChunkReceived() {} };
      },
      uploadFile: (o: AnyOpts) => {
        void answer(o, async () => {
          const url = this.url(o.url, "uploadFile");
          const filePath = str(o.filePath);
          const file = readFileSync(filePath);
          const boundary = `----wxharness${randomBytes(8).toString("hex")}`;
          const parts: Buffer[] = [];
          for (const [k, v] of Object.entries((o.formData as Record<string, unknown>) ?? {})) {
            parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${str(v)}\r\n`));
          }
          const type = /\.png$/i.test(filePath) ? "image/png" : /\.webp$/i.test(filePath) ? "image/webp" : /\.jpe?g$/i.test(filePath) ? "image/jpeg" : "application/octet-stream";
          parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${str(o.name, "file")}"; filename="${basename(filePath)}"\r\ncontent-type: ${type}\r\n\r\n`));
          parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`));
          const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${boundary}` };
          for (const [k, v] of Object.entries((o.header as Record<string, unknown>) ?? {})) headers[k.toLowerCase()] = str(v);
          const res = await this.http("POST", url, headers, Buffer.concat(parts));
          return { statusCode: res.status, data: res.text, errMsg: "uploadFile:ok" };
        }, false);
        return { abort() {}, onProgressUpdate() {}, offProgressUpdate() {} };
      },
      connectSocket: (o: AnyOpts) => {
        const url = this.url(o.url, "connectSocket");
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries((o.header as Record<string, unknown>) ?? {})) headers[k] = str(v);
        const handlers = { open: [] as ((r: unknown) => void)[], message: [] as ((r: unknown) => void)[], close: [] as ((r: unknown) => void)[], error: [] as ((r: unknown) => void)[] };
        const fire = (kind: keyof typeof handlers, res: unknown) => {
          for (const h of handlers[kind].slice()) h(res);
        };
        const ws = new WebSocket(url, { headers, perMessageDeflate: false });
        const socket = new TestSocket(url, headers, ws);
        this.sockets.push(socket);
        let closedFired = false;
        const fireClose = (code: number, reason: string) => {
          if (closedFired) return;
          closedFired = true;
          socket.closeCode = code;
          fire("close", { code, reason });
        };
        if (!this.online) {
          setTimeout(() => {
            ws.terminate();
            fire("error", { errMsg: "connectSocket:fail network is down" });
            fireClose(1006, "");
          }, 0);
        }
        ws.on("open", () => {
          socket.opened = true;
          fire("open", { header: {}, profile: {} });
        });
        ws.on("message", (data, isBinary) => {
          const text = isBinary ? null : (data as Buffer).toString("utf8");
          const deliver = () => {
            if (text !== null) {
              try {
                socket.received.push(JSON.parse(text) as Record<string, unknown>);
              } catch {
                // not JSON: still delivered
              }
            }
            fire("message", { data: text ?? new Uint8Array(data as Buffer).buffer });
          };
          if (socket.held) socket.held.push(deliver);
          else deliver();
        });
        ws.on("unexpected-response", (_req, res) => {
          fire("error", { errMsg: `Invalid HTTP status ${res.statusCode}` });
          ws.terminate();
          fireClose(1006, "");
        });
        ws.on("error", (err) => fire("error", { errMsg: err.message }));
        ws.on("close", (code, reason) => fireClose(code === 1005 ? 1000 : code, reason.toString()));
        setTimeout(() => o.success?.({ errMsg: "connectSocket:ok" }), 0);
        return {
          get readyState() {
            return ws.readyState;
          },
          onOpen: (h: (r: unknown) => void) => handlers.open.push(h),
          onMessage: (h: (r: unknown) => void) => handlers.message.push(h),
          onClose: (h: (r: unknown) => void) => handlers.close.push(h),
          onError: (h: (r: unknown) => void) => handlers.error.push(h),
          send(s: AnyOpts) {
            if (ws.readyState !== WebSocket.OPEN) {
              const res = { errMsg: "sendSocketMessage:fail socket is not connected" };
              s?.fail?.(res);
              s?.complete?.(res);
              return;
            }
            const data = typeof s.data === "string" ? s.data : Buffer.from(s.data as ArrayBuffer);
            if (typeof data === "string") socket.sent.push(data);
            ws.send(data, (err) => {
              const res = { errMsg: err ? `sendSocketMessage:fail ${err.message}` : "sendSocketMessage:ok" };
              if (err) s?.fail?.(res);
              else s?.success?.(res);
              s?.complete?.(res);
            });
          },
          close(c?: AnyOpts) {
            const code = typeof c?.code === "number" ? c.code : 1000;
            if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
            else if (ws.readyState === WebSocket.OPEN) ws.close(code, typeof c?.reason === "string" ? c.reason : undefined);
            const res = { errMsg: "closeSocket:ok" };
            setTimeout(() => {
              c?.success?.(res);
              c?.complete?.(res);
            }, 0);
          },
        };
      },
      sendSocketMessage: () => {
        throw new Error("the harness supports SocketTask only (wx.connectSocket(...).send)");
      },
      onSocketMessage: () => {
        throw new Error("the harness supports SocketTask only (task.onMessage)");
      },
      downloadFile: (o: AnyOpts) => {
        void answer(o, () => Promise.reject(new Error("downloadFile:fail not supported by the test harness")), false);
        return { abort() {} };
      },
      onNetworkStatusChange: (fn: (res: { isConnected: boolean; networkType: string }) => void) => {
        this.networkListeners.push(fn);
      },
      offNetworkStatusChange: (fn?: (res: { isConnected: boolean; networkType: string }) => void) => {
        this.networkListeners = fn ? this.networkListeners.filter((l) => l !== fn) : [];
      },
      getNetworkType: (o: AnyOpts) => answer(o, () => Promise.resolve({ networkType: this.online ? "wifi" : "none", errMsg: "getNetworkType:ok" })),

      // ---- WeChat login and pay, through the server's sandbox ----
      login: (o: AnyOpts) =>
        answer(o, async () => {
          const res = await this.http("POST", `${this.baseUrl}/sandbox/wechat/login-code`, { "content-type": "application/json" }, JSON.stringify({ openid: this.device.openid }));
          if (res.status !== 201) throw new Error(`login:fail ${res.text}`);
          return { code: (JSON.parse(res.text) as { code: string }).code, errMsg: "login:ok" };
        }),
      checkSession: (o: AnyOpts) => answer(o, () => Promise.resolve({ errMsg: "checkSession:ok" })),
      requestPayment: (o: AnyOpts) =>
        answer(o, async () => {
          const params = { timeStamp: o.timeStamp, nonceStr: o.nonceStr, package: o.package, signType: o.signType, paySign: o.paySign };
          if (this.cancelNextPayment) {
            this.cancelNextPayment = false;
            this.payments.push({ params, errMsg: "requestPayment:fail cancel", at: Date.now() });
            throw new Error("requestPayment:fail cancel");
          }
          const res = await this.http("POST", `${this.baseUrl}/sandbox/wechat/pay`, { "content-type": "application/json" }, JSON.stringify(params));
          const errMsg = (JSON.parse(res.text) as { errMsg: string }).errMsg;
          this.payments.push({ params, errMsg, at: Date.now() });
          if (errMsg !== "requestPayment:ok") throw new Error(errMsg);
          return { errMsg };
        }),

      // ---- storage (one per device, in memory, values copied as WeChat serializes them) ----
      getStorageSync: (key: string) => (storage().has(key) ? clone(storage().get(key)) : ""),
      setStorageSync: (key: string, value: unknown) => void storage().set(key, clone(value)),
      removeStorageSync: (key: string) => void storage().delete(key),
      clearStorageSync: () => storage().clear(),
      getStorageInfoSync: () => ({ keys: [...storage().keys()], currentSize: 0, limitSize: 10240 }),
      getStorage: (o: AnyOpts) =>
        answer(o, () => (storage().has(str(o.key)) ? Promise.resolve({ data: clone(storage().get(str(o.key))), errMsg: "getStorage:ok" }) : Promise.reject(new Error("getStorage:fail data not found")))),
      setStorage: (o: AnyOpts) => answer(o, () => Promise.resolve((storage().set(str(o.key), clone(o.data)), { errMsg: "setStorage:ok" }))),
      removeStorage: (o: AnyOpts) => answer(o, () => Promise.resolve((storage().delete(str(o.key)), { errMsg: "removeStorage:ok" }))),
      clearStorage: (o: AnyOpts) => answer(o, () => Promise.resolve((storage().clear(), { errMsg: "clearStorage:ok" }))),

      // ---- UI: recorded ----
      showToast: (o: AnyOpts) =>
        answer(o, () => {
          const toast: Toast = { title: str(o.title), icon: str(o.icon, "success"), at: Date.now(), duration: typeof o.duration === "number" ? o.duration : 1500 };
          this.toasts.push(toast);
          this.prompt = toast;
          return Promise.resolve({ errMsg: "showToast:ok" });
        }),
      hideToast: (o?: AnyOpts) =>
        answer(o, () => {
          this.hidePrompt(!o?.noConflict, "toast");
          return Promise.resolve({ errMsg: "hideToast:ok" });
        }),
      showLoading: (o: AnyOpts) =>
        answer(o, () => {
          this.loading = str(o.title);
          this.loadingShown.push(this.loading);
          this.prompt = "loading";
          return Promise.resolve({ errMsg: "showLoading:ok" });
        }),
      hideLoading: (o?: AnyOpts) =>
        answer(o, () => {
          this.loading = null;
          this.hidePrompt(!o?.noConflict, "loading");
          return Promise.resolve({ errMsg: "hideLoading:ok" });
        }),
      showModal: (o: AnyOpts) =>
        answer(o, async () => {
          await tick();
          const showCancel = o.showCancel !== false;
          const confirmed = showCancel ? (this.modalAnswers.shift() ?? true) : true;
          this.modals.push({ title: str(o.title), content: str(o.content), showCancel, confirmed, at: Date.now() });
          return { confirm: confirmed, cancel: !confirmed, errMsg: "showModal:ok" };
        }),
      showActionSheet: (o: AnyOpts) => answer(o, () => Promise.resolve({ tapIndex: 0, errMsg: "showActionSheet:ok" })),

      // ---- navigation: recorded (a test opens the page navigated to with openNavigated) ----
      navigateTo: (o: AnyOpts) =>
        answer(o, () => {
          const channel = new EventChannel();
          for (const [ev, fn] of Object.entries((o.events as Record<string, (d: unknown) => void>) ?? {})) channel.on(ev, fn);
          this.navigations.push({ kind: "navigateTo", url: str(o.url), channel, at: Date.now() });
          return Promise.resolve({ errMsg: "navigateTo:ok", eventChannel: channel });
        }),
      redirectTo: (o: AnyOpts) => answer(o, () => Promise.resolve((this.navigations.push({ kind: "redirectTo", url: str(o.url), at: Date.now() }), { errMsg: "redirectTo:ok" }))),
      switchTab: (o: AnyOpts) => answer(o, () => Promise.resolve((this.navigations.push({ kind: "switchTab", url: str(o.url), at: Date.now() }), { errMsg: "switchTab:ok" }))),
      reLaunch: (o: AnyOpts) => answer(o, () => Promise.resolve((this.navigations.push({ kind: "reLaunch", url: str(o.url), at: Date.now() }), { errMsg: "reLaunch:ok" }))),
      navigateBack: (o?: AnyOpts) =>
        answer(o, () => Promise.resolve((this.navigations.push({ kind: "navigateBack", url: "", delta: Number(o?.delta ?? 1), at: Date.now() }), { errMsg: "navigateBack:ok" }))),

      // ---- media pickers: the files a test put in chosenFiles ----
      chooseMedia: (o: AnyOpts) =>
        answer(o, () => {
          const f = this.chosenFiles.shift();
          if (!f) return Promise.reject(new Error("chooseMedia:fail cancel"));
          return Promise.resolve({ tempFiles: [{ tempFilePath: f, size: readFileSync(f).length, fileType: "image" }], type: "image", errMsg: "chooseMedia:ok" });
        }),
      chooseImage: (o: AnyOpts) =>
        answer(o, () => {
          const f = this.chosenFiles.shift();
          if (!f) return Promise.reject(new Error("chooseImage:fail cancel"));
          return Promise.resolve({ tempFilePaths: [f], tempFiles: [{ path: f, size: readFileSync(f).length }], errMsg: "chooseImage:ok" });
        }),
    };
    return wx;
  }
}
