/**
 * Pictures of rendered pages: the page's DOM as miniprogram-simulate rendered it, with the WXSS it
 * put into `document.head` (1rpx = 1px, so the viewport is 750px wide: a phone at 2x), app.wxss,
 * and base styles for the `wx-*` tags, in Chromium. Written to artifacts/screenshots/mini-program/.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { MINI_PROGRAM_ROOT, type PageHandle } from "./pages.js";

const require = createRequire(import.meta.url);
export const SCREENSHOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../artifacts/screenshots/mini-program");
const CHROMIUM = "/usr/bin/chromium";

/** What WeChat's built-in components look like by default, for the tags the pages use. */
const BASE_CSS = `
html, body { margin: 0; padding: 0; }
body { width: 750px; font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", sans-serif; font-size: 32px; line-height: 1.4; color: #333; -webkit-font-smoothing: antialiased; }
page { display: block; min-height: 100vh; background: #f6f6f6; position: relative; overflow: hidden; }
main, wx-view, wx-scroll-view, wx-swiper, wx-swiper-item, wx-form, wx-cover-view, wx-movable-area, wx-movable-view, wx-navigator, wx-live-player, wx-video, wx-rich-text, wx-progress, wx-block, wx-page-container, wx-root-portal { display: block; box-sizing: border-box; }
wx-text, wx-label { display: inline; }
wx-view, wx-scroll-view, wx-swiper-item, wx-text, wx-button, wx-input, wx-image { box-sizing: border-box; }
wx-scroll-view { overflow: hidden; }
.wx-scroll-view__content { display: contents; }
wx-swiper { position: relative; overflow: hidden; height: 300px; }
wx-swiper-item { position: absolute; left: 0; top: 0; width: 100%; height: 100%; display: none; }
wx-swiper-item:first-child { display: block; }
wx-image { display: inline-block; width: 640px; height: 480px; overflow: hidden; position: relative; vertical-align: top; }
wx-image .wx-image__img { display: block; width: 100%; height: 100%; object-fit: fill; }
wx-image .wx-image__img[data-mode="aspectFill"] { object-fit: cover; }
wx-image .wx-image__img[data-mode="aspectFit"] { object-fit: contain; }
wx-image .wx-image__img[data-mode="widthFix"] { height: auto; }
wx-image .wx-image__img[src=""], wx-image .wx-image__img:not([src]) { display: none; }
wx-input, wx-textarea { display: block; min-height: 1.4em; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; cursor: text; }
wx-textarea { white-space: normal; min-height: 150px; }
.wx-input__placeholder { color: #999; }
wx-button { display: block; position: relative; margin: 0 auto; padding: 0 28px; font-size: 36px; text-align: center; line-height: 2.55; border-radius: 10px; background: #f8f8f8; color: #000; overflow: hidden; }
wx-button .wx-button__inner[data-disabled="true"] { opacity: 0.6; }
wx-live-player { position: relative; width: 600px; height: 450px; background: #000; overflow: hidden; }
.wx-live-player__video { position: absolute; inset: 0; background: radial-gradient(ellipse at 50% 38%, #4a4f5c 0%, #23262e 55%, #0c0d10 100%); }
.wx-live-player__video::after { content: "live-player 画面"; position: absolute; left: 50%; top: 40%; transform: translate(-50%, -50%); color: rgba(255,255,255,0.22); font-size: 26px; letter-spacing: 4px; }
.wx-progress__bar { height: 6px; background: #ebebeb; overflow: hidden; border-radius: inherit; }
.wx-progress__inner { height: 100%; border-radius: inherit; }
.wx-icon__glyph { display: inline-block; }
.wx-icon__glyph[data-type="success"]::before { content: "✔"; }
.wx-icon__glyph[data-type="clear"]::before, .wx-icon__glyph[data-type="cancel"]::before { content: "✕"; }
.wx-icon__glyph[data-type="search"]::before { content: "⌕"; }
.wx-icon__glyph[data-type="info"]::before, .wx-icon__glyph[data-type="warn"]::before { content: "!"; }
`;

let browser: Promise<Browser> | null = null;

/** Chromium is optional (PINLIVE_SKIP_BROWSER=1 machines): screenshots are skipped without it. */
export function screenshotsAvailable() {
  return existsSync(CHROMIUM);
}

async function getBrowser() {
  if (!browser) {
    browser = chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  }
  return browser;
}

export async function closeBrowser() {
  const b = browser;
  browser = null;
  if (b) await (await b).close();
}

/** app.wxss, scoped like the page's own WXSS (miniprogram-simulate prefixes page classes with `main--`). */
function appCss(): string {
  const file = join(MINI_PROGRAM_ROOT, "app.wxss");
  if (!existsSync(file)) return "";
  const wxss = require("miniprogram-simulate/src/wxss") as { getContent(p: string): string; compile(s: string, o: { prefix: string }): string };
  return wxss.compile(wxss.getContent(file), { prefix: "main" }).replace(/(\d+(?:\.\d+)?)rpx/gi, "$1px");
}

type ExNode = { __id?: string; $$?: { setAttribute?: (k: string, v: string) => void }; childNodes?: ExNode[]; shadowRoot?: ExNode };

/** WXML ids live on exparser's nodes, not in the DOM; copy them so scroll-into-view can find its target. */
function mirrorIds(node: ExNode | undefined, seen = new Set<ExNode>()) {
  if (!node || seen.has(node)) return;
  seen.add(node);
  if (node.__id && node.$$?.setAttribute) node.$$.setAttribute("id", node.__id);
  for (const child of node.childNodes ?? []) mirrorIds(child, seen);
  mirrorIds(node.shadowRoot, seen);
}

function escapeHtml(s: string) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/** The page as Chromium lays it out: its HTML loaded in a phone-sized tab, scroll-views scrolled to their scroll-into-view target. */
async function rendered<T>(page: PageHandle, height: number, use: (tab: Page) => Promise<T>): Promise<T> {
  mirrorIds((page.instance as { _exparserNode?: ExNode })._exparserNode);
  const styles = [...document.head.querySelectorAll("style")].map((s) => s.textContent ?? "").join("\n");
  const title = typeof page.json.navigationBarTitleText === "string" ? page.json.navigationBarTitleText : "";
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${BASE_CSS}</style><style>${appCss()}</style><style>${styles}</style></head>
<body><page>${page.dom.outerHTML}</page></body></html>`;
  const b = await getBrowser();
  const context = await b.newContext({ viewport: { width: 750, height }, deviceScaleFactor: 1 });
  try {
    const tab = await context.newPage();
    await tab.setContent(html, { waitUntil: "load", timeout: 15_000 });
    await tab.evaluate(() => document.fonts.ready.then(() => true));
    // scroll-into-view: the scroll-view shows its target, as WeChat scrolls it.
    await tab.evaluate(() => {
      for (const w of Array.from(document.querySelectorAll("[data-scroll-into]"))) {
        const id = w.getAttribute("data-scroll-into");
        const box = w.parentElement;
        const target = id && box ? box.querySelector(`[id="${id}"]`) : null;
        if (!box || !target) continue;
        const below = target.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom;
        if (below > 0) box.scrollTop += below;
      }
    });
    return await use(tab);
  } finally {
    await context.close();
  }
}

/**
 * Renders `page` in Chromium and writes `<name>.png`; returns the file, or null when Chromium is
 * not installed. `height`: the viewport height (a phone screen, 1334px, by default);
 * `fullPage`: the whole scrollable page instead.
 */
export async function screenshot(page: PageHandle, name: string, opts: { height?: number; fullPage?: boolean } = {}): Promise<string | null> {
  if (!screenshotsAvailable()) return null;
  return rendered(page, opts.height ?? 1334, async (tab) => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = join(SCREENSHOT_DIR, `${name}.png`);
    await tab.screenshot({ path: file, fullPage: opts.fullPage ?? false, animations: "disabled" });
    return file;
  });
}

/** A laid-out element's box in the 750px-wide viewport (px = rpx). */
export interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Where Chromium puts the page's elements on a phone screen (1334px high): for each key, the box of
 * every match of its selector (WXML classes; `a >>> .b` crosses into a component), in document
 * order. Null when Chromium is not installed.
 */
export async function layout<K extends string>(page: PageHandle, selectors: Record<K, string>): Promise<Record<K, Box[]> | null> {
  if (!screenshotsAvailable()) return null;
  const keys = Object.keys(selectors) as K[];
  const marked: HTMLElement[] = [];
  keys.forEach((key, i) => {
    for (const n of page.node.querySelectorAll(selectors[key])) {
      n.dom.setAttribute(`data-layout-${i}`, "");
      marked.push(n.dom);
    }
  });
  try {
    return await rendered(page, 1334, (tab) =>
      tab.evaluate((count) => {
        const out: Box[][] = [];
        for (let i = 0; i < count; i++) {
          out.push(
            Array.from(document.querySelectorAll(`[data-layout-${i}]`)).map((el) => {
              const r = el.getBoundingClientRect();
              return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
            }),
          );
        }
        return out;
      }, keys.length),
    ).then((boxes) => Object.fromEntries(keys.map((k, i) => [k, boxes[i]])) as Record<K, Box[]>);
  } finally {
    for (const el of marked) for (let i = 0; i < keys.length; i++) el.removeAttribute(`data-layout-${i}`);
  }
}

/** Whether two boxes share any area. */
export function overlaps(a: Box, b: Box) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** The PNG's width and height (to check a screenshot was written with the phone's width). */
export function pngSize(file: string) {
  const buf = readFileSync(file);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
