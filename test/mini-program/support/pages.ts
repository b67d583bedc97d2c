/**
 * Pages from their real WXML, WXSS and JS under miniprogram-simulate (compiler 'simulate', jsdom),
 * with WeChat's page lifecycle driven the way the platform drives it: onLoad(query), onShow, onReady;
 * hide() → onHide, show() → onShow, unload() → onUnload. Built-in components that carry what a
 * viewer sees in attributes (image, input, live-player, progress, …) are re-registered so their
 * content reaches the DOM (for assertions on text and for screenshots).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { EventChannel, Toast, WxPlatform } from "./wx.js";

const require = createRequire(import.meta.url);

/** The mini program's folder. */
// (jsdom replaces the global URL, which node:url does not accept: paths are resolved from strings.)
export const MINI_PROGRAM_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../mini-program");

// j-component's view of a rendered node (the parts used here).
export interface SimNode {
  dom: HTMLElement;
  data: Record<string, unknown>;
  instance: Record<string, unknown> & { setData(d: Record<string, unknown>): void };
  querySelector(sel: string): SimNode | null;
  querySelectorAll(sel: string): SimNode[];
  dispatchEvent(name: string, opts?: Record<string, unknown>): void;
  triggerPageLifeTime(name: string, args?: unknown): void;
  attach(parent: HTMLElement): void;
  detach(): void;
}
interface Simulate {
  load(path: string, opts: Record<string, unknown>): string;
  render(id: string, props?: Record<string, unknown>): SimNode;
}

let simulate: Simulate | null = null;

/**
 * The DOM miniprogram-simulate renders into: a jsdom window whose DOM globals are installed into
 * this (node-environment) test process. Only DOM names are installed; Node's own URL, fetch,
 * timers and streams stay, so the server-side test helpers keep working beside the pages.
 */
function installDom() {
  if (typeof document !== "undefined") return;
  const { JSDOM } = require("jsdom") as { JSDOM: new (html: string, opts: Record<string, unknown>) => { window: Record<string, unknown> } };
  const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", { pretendToBeVisual: true, url: "http://localhost/" });
  const win = dom.window;
  const g = globalThis as Record<string, unknown>;
  g.window = win;
  for (const name of [
    "document",
    "navigator",
    "Node",
    "Element",
    "HTMLElement",
    "Text",
    "Comment",
    "DocumentFragment",
    "Event",
    "CustomEvent",
    "MutationObserver",
    "getComputedStyle",
    "requestAnimationFrame",
    "cancelAnimationFrame",
  ]) {
    const value = win[name];
    Object.defineProperty(g, name, { value: typeof value === "function" && !/^[A-Z]/.test(name) ? (value as (...a: unknown[]) => unknown).bind(win) : value, configurable: true, writable: true });
  }
}

/** Loads miniprogram-simulate once, over jsdom, and re-registers the built-ins. */
export function loadSimulate(): Simulate {
  if (simulate) return simulate;
  installDom();
  simulate = require("miniprogram-simulate") as Simulate;
  const jc = require("j-component") as { register(def: Record<string, unknown>): string };
  const any = (value: unknown = "") => ({ type: null, value });
  const builtIn = (id: string, template: string, properties: Record<string, unknown>) => jc.register({ id, tagName: `wx-${id}`, template, properties });
  builtIn("image", '<img class="wx-image__img" src="{{src}}" data-mode="{{mode}}" /><slot/>', { src: any(), mode: any("scaleToFill") });
  builtIn("input", '<span class="wx-input__text {{value || value === 0 ? \'\' : \'wx-input__placeholder\'}}">{{value || value === 0 ? value : placeholder}}</span>', {
    value: any(),
    placeholder: any(),
    disabled: any(false),
    type: any("text"),
    focus: any(false),
    maxlength: any(140),
    confirmType: any("done"),
  });
  builtIn("textarea", '<span class="wx-input__text {{value ? \'\' : \'wx-input__placeholder\'}}">{{value || placeholder}}</span>', { value: any(), placeholder: any(), disabled: any(false), maxlength: any(140) });
  builtIn("live-player", '<div class="wx-live-player__video" data-src="{{src}}"></div><slot/>', { src: any(), mode: any("live"), autoplay: any(false), objectFit: any("contain"), muted: any(false) });
  builtIn("progress", '<div class="wx-progress__bar"><div class="wx-progress__inner" style="width:{{percent}}%;background:{{activeColor || \'#09bb07\'}}"></div></div>', {
    percent: any(0),
    activeColor: any(""),
    backgroundColor: any(""),
    strokeWidth: any(6),
  });
  builtIn("icon", '<span class="wx-icon__glyph" data-type="{{type}}" style="font-size:{{size}}px;color:{{color}}"></span>', { type: any(), size: any(23), color: any("") });
  // The content wrapper is `display: contents` in screenshots (layout unchanged); it carries scroll-into-view.
  builtIn("scroll-view", '<div class="wx-scroll-view__content" data-scroll-into="{{scrollIntoView}}" data-scroll-top="{{scrollTop}}"><slot/></div>', {
    scrollIntoView: any(),
    scrollTop: any(),
    scrollLeft: any(),
    scrollX: any(false),
    scrollY: any(false),
    enableFlex: any(false),
    scrollWithAnimation: any(false),
    enhanced: any(false),
    showScrollbar: any(true),
    refresherEnabled: any(false),
    refresherTriggered: any(false),
  });
  builtIn("button", '<div class="wx-button__inner" data-type="{{type}}" data-size="{{size}}" data-disabled="{{disabled}}" data-plain="{{plain}}"><slot/></div>', {
    type: any("default"),
    size: any("default"),
    disabled: any(false),
    plain: any(false),
    loading: any(false),
    openType: any(""),
  });
  return simulate;
}

type AppOptions = Record<string, unknown> & { onLaunch?: (o: unknown) => void; onShow?: (o: unknown) => void; globalData?: Record<string, unknown> };

// Pages set whatever data they like; tests read it as they know it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export interface PageHandle {
  readonly path: string;
  readonly query: Record<string, string>;
  readonly node: SimNode;
  /** The page's `this`: its methods (`instance.onShareAppMessage()`), `setData`, `data`. */
  readonly instance: Loose;
  readonly data: Loose;
  readonly dom: HTMLElement;
  /** The page's .json (navigationBarTitleText, usingComponents, …). */
  readonly json: Record<string, unknown>;
  /** Toasts shown since this page opened. */
  readonly toasts: Toast[];
  find(selector: string): SimNode;
  exists(selector: string): boolean;
  count(selector: string): number;
  /** The visible text (whitespace collapsed) of the page or of the first match. */
  text(selector?: string): string;
  tap(selector: string, detail?: Record<string, unknown>): Promise<void>;
  input(selector: string, value: string): Promise<void>;
  /** The keyboard's confirm key (bindconfirm), with the input's value. */
  confirm(selector: string, value?: string): Promise<void>;
  trigger(selector: string, event: string, detail?: Record<string, unknown>): Promise<void>;
  waitFor(predicate: (page: PageHandle) => unknown, what?: string, timeoutMs?: number): Promise<void>;
  show(): Promise<void>;
  hide(): Promise<void>;
  unload(): Promise<void>;
  readonly unloaded: boolean;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** The running mini program: app instance, page stack, pages opened from their files. */
export class MiniProgramRuntime {
  readonly stack: PageHandle[] = [];
  app: AppOptions = { globalData: {} };
  private appJson: Record<string, unknown> = {};

  constructor(
    readonly wx: WxPlatform,
    readonly root = MINI_PROGRAM_ROOT,
  ) {}

  /** Installs the globals a mini program expects and runs app.js (onLaunch, onShow). */
  start() {
    loadSimulate();
    const g = globalThis as Record<string, unknown>;
    g.wx = this.wx.build(g.wx as Record<string, unknown>);
    g.getApp = () => this.app;
    g.getCurrentPages = () => this.stack.map((p) => p.instance);
    g.Page = () => {
      throw new Error("write pages with Component({ methods: { onLoad, … } }): miniprogram-simulate cannot load Page()");
    };
    this.appJson = JSON.parse(readFileSync(join(this.root, "app.json"), "utf8")) as Record<string, unknown>;
    const appJs = join(this.root, "app.js");
    if (existsSync(appJs)) {
      g.App = (options: AppOptions) => {
        this.app = options;
      };
      require(appJs);
      this.app.globalData ??= {};
      this.app.onLaunch?.call(this.app, { path: "pages/home/index", query: {}, scene: 1001 });
      this.app.onShow?.call(this.app, { path: "pages/home/index", query: {}, scene: 1001 });
    }
  }

  /** Opens a page (`pages/live/room` or `/pages/live/room?streamId=…`), as navigateTo would. */
  async openPage(path: string, query: Record<string, string | number> = {}, opts: { channel?: EventChannel; root?: string } = {}): Promise<PageHandle> {
    const [route, qs] = path.replace(/^\//, "").split("?") as [string, string | undefined];
    const q: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(qs ?? "")) q[k] = v;
    for (const [k, v] of Object.entries(query)) q[k] = String(v);
    const root = opts.root ?? this.root;
    const base = join(root, route);
    if (!existsSync(`${base}.json`)) throw new Error(`no page at ${base}.json`);
    const json = JSON.parse(readFileSync(`${base}.json`, "utf8")) as Record<string, unknown>;
    const sim = loadSimulate();
    const id = sim.load(base, { compiler: "simulate", rootPath: root, usingComponents: { ...(this.appJson.usingComponents ?? {}) } });
    const node = sim.render(id);
    const parent = document.createElement("div");
    parent.className = "wx-page-host";
    document.body.appendChild(parent);
    node.attach(parent);
    const instance = node.instance as Record<string, unknown>;
    Object.assign(instance, { route, options: q, __route__: route });
    const channel = opts.channel;
    instance.getOpenerEventChannel = () => channel ?? { emit() {}, on() {}, once() {}, off() {} };
    /** Runs a page lifecycle method when the page has it. */
    const hook = (name: string, ...args: unknown[]) => {
      const fn = instance[name];
      if (typeof fn === "function") (fn as (...a: unknown[]) => unknown).apply(instance, args);
    };
    const wx = this.wx;
    const toastsFrom = wx.toasts.length;
    const stack = this.stack;
    let unloaded = false;
    const find = (selector: string) => {
      const n = node.querySelector(selector);
      if (!n) throw new Error(`${route}: nothing matches ${selector}; the page shows: ${handle.text().slice(0, 300)}`);
      return n;
    };
    const handle: PageHandle = {
      path: route,
      query: q,
      node,
      instance,
      json,
      get data() {
        return node.data;
      },
      get dom() {
        return node.dom;
      },
      get toasts() {
        return wx.toasts.slice(toastsFrom);
      },
      get unloaded() {
        return unloaded;
      },
      find,
      exists: (selector) => node.querySelector(selector) != null,
      count: (selector) => node.querySelectorAll(selector).length,
      text(selector) {
        const el = selector ? find(selector).dom : node.dom;
        return (el.textContent ?? "").replace(/\s+/g, " ").trim();
      },
      async tap(selector, detail) {
        find(selector).dispatchEvent("tap", detail ? { detail } : {});
        await tick();
      },
      async input(selector, value) {
        find(selector).dispatchEvent("input", { detail: { value, cursor: value.length, keyCode: 0 } });
        await tick();
      },
      async confirm(selector, value) {
        const n = find(selector);
        const current = (n.data as { value?: unknown }).value;
        const v = value ?? (typeof current === "string" || typeof current === "number" ? String(current) : "");
        n.dispatchEvent("confirm", { detail: { value: v } });
        await tick();
      },
      async trigger(selector, event, detail) {
        find(selector).dispatchEvent(event, { detail: detail ?? {} });
        await tick();
      },
      async waitFor(predicate, what = "condition", timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        let last: unknown;
        for (;;) {
          try {
            if (predicate(handle)) return;
          } catch (err) {
            last = err;
          }
          if (Date.now() > deadline) {
            const toasts = wx.toasts.slice(toastsFrom).map((t) => t.title);
            throw new Error(`${route}: timed out waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}; toasts: ${JSON.stringify(toasts)}; page: ${handle.text().slice(0, 400)}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      async show() {
        hook("onShow");
        node.triggerPageLifeTime("show");
        await tick();
      },
      async hide() {
        hook("onHide");
        node.triggerPageLifeTime("hide");
        await tick();
      },
      async unload() {
        if (unloaded) return;
        unloaded = true;
        hook("onUnload");
        node.detach();
        parent.remove();
        const at = stack.indexOf(handle);
        if (at >= 0) stack.splice(at, 1);
        await tick();
      },
    };
    stack.push(handle);
    hook("onLoad", q);
    hook("onShow");
    node.triggerPageLifeTime("show");
    hook("onReady");
    await tick();
    return handle;
  }

  /** Opens the page of the latest navigateTo/redirectTo/switchTab/reLaunch (with its EventChannel). */
  openNavigated(): Promise<PageHandle> {
    const nav = [...this.wx.navigations].reverse().find((n) => n.kind !== "navigateBack");
    if (!nav) throw new Error("no navigation so far");
    return this.openPage(nav.url, {}, { channel: nav.channel });
  }

  async unloadAll() {
    for (const p of [...this.stack].reverse()) await p.unload();
  }
}
