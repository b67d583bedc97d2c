import { PNG } from "pngjs";

/**
 * Procedural pictures for the demo data: gradient backgrounds with simple shapes in each
 * product's colours, drawn with anti-aliased signed-distance shapes and encoded with pngjs. The
 * same input always gives the same bytes (and so the same content-addressed URL), so a restart
 * stores nothing new. No downloads, no fonts.
 */

export type Rgb = readonly [number, number, number];
export interface Palette {
  /** Background gradient, top-left to bottom-right. */
  from: Rgb;
  to: Rgb;
  /** The motif's colours, main first. */
  ink: Rgb;
  accent: Rgb;
  light: Rgb;
}
export type Motif = "tea" | "puer" | "mug" | "fan" | "teapot" | "honey" | "cake" | "scarf";

type Box = [x0: number, y0: number, x1: number, y1: number];
/** A signed distance (negative inside), in pixels, with the box that holds its inside when known. */
type Sdf = ((x: number, y: number) => number) & { box?: Box };
const bounded = (f: (x: number, y: number) => number, box: Box): Sdf => Object.assign(f, { box });

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height, colorType: 2 });
  }

  gradient(from: Rgb, to: Rgb) {
    const { width: w, height: h } = this;
    const d = this.png.data;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const t = (x / w + y / h) / 2;
        const i = (y * w + x) * 4;
        for (let c = 0; c < 3; c++) d[i + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t);
        d[i + 3] = 255;
      }
    }
  }

  /** Paints `sdf < 0` (1 px anti-aliased edge, or a soft edge `blur` px wide) within the shape's box (or `box`). */
  fill(sdf: Sdf, color: Rgb, opacity = 1, box?: Box, blur = 0) {
    const pad = blur + 2;
    const [x0, y0, x1, y1] = sdf.box ? [sdf.box[0] - pad, sdf.box[1] - pad, sdf.box[2] + pad, sdf.box[3] + pad] : (box ?? [0, 0, this.width, this.height]);
    const d = this.png.data;
    const soft = Math.max(1, blur);
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(this.height, Math.ceil(y1)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(this.width, Math.ceil(x1)); x++) {
        const dist = sdf(x + 0.5, y + 0.5);
        const cover = Math.min(1, Math.max(0, 0.5 - dist / soft));
        if (cover <= 0) continue;
        const a = cover * opacity;
        const i = (y * this.width + x) * 4;
        for (let c = 0; c < 3; c++) d[i + c] = Math.round(d[i + c]! * (1 - a) + color[c]! * a);
      }
    }
  }

  encode(): Buffer {
    return PNG.sync.write(this.png, { colorType: 2, deflateLevel: 6 });
  }
}

// ----- signed distances (negative inside), in pixels -----
const around = (cx: number, cy: number, r: number): Box => [cx - r, cy - r, cx + r, cy + r];
const circle = (cx: number, cy: number, r: number): Sdf => bounded((x, y) => Math.hypot(x - cx, y - cy) - r, around(cx, cy, r));
const ring = (cx: number, cy: number, r: number, width: number): Sdf =>
  bounded((x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2, around(cx, cy, r + width / 2));
/** An ellipse with radii rx, ry turned by `angle` (approximate distance, exact edge). */
const ellipse = (cx: number, cy: number, rx: number, ry: number, angle = 0): Sdf => {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const f = (x: number, y: number) => {
    const dx = x - cx;
    const dy = y - cy;
    const u = (dx * cos + dy * sin) / rx;
    const v = (-dx * sin + dy * cos) / ry;
    return (Math.hypot(u, v) - 1) * Math.min(rx, ry);
  };
  return bounded(f, around(cx, cy, Math.max(rx, ry)));
};
const roundRect = (cx: number, cy: number, hw: number, hh: number, r: number, angle = 0): Sdf => {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const f = (x: number, y: number) => {
    const dx = x - cx;
    const dy = y - cy;
    const qx = Math.abs(dx * cos + dy * sin) - hw + r;
    const qy = Math.abs(-dx * sin + dy * cos) - hh + r;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  };
  return bounded(f, around(cx, cy, Math.hypot(hw, hh)));
};
const hexagon = (cx: number, cy: number, r: number): Sdf => bounded((x, y) => {
  const kx = -0.866025404;
  const ky = 0.5;
  const kz = 0.577350269;
  let px = Math.abs(x - cx);
  let py = Math.abs(y - cy);
  const dot = 2 * Math.min(kx * px + ky * py, 0);
  px -= dot * kx;
  py -= dot * ky;
  px -= Math.min(Math.max(px, -kz * r), kz * r);
  py -= r;
  return Math.hypot(px, py) * Math.sign(py);
}, around(cx, cy, r * 1.16));
const intersect = (a: Sdf, b: Sdf): Sdf => {
  const f = (x: number, y: number) => Math.max(a(x, y), b(x, y));
  if (!a.box || !b.box) return a.box || b.box ? bounded(f, (a.box ?? b.box)!) : f;
  return bounded(f, [Math.max(a.box[0], b.box[0]), Math.max(a.box[1], b.box[1]), Math.min(a.box[2], b.box[2]), Math.min(a.box[3], b.box[3])]);
};
const subtract = (a: Sdf, b: Sdf): Sdf => {
  const f = (x: number, y: number) => Math.max(a(x, y), -b(x, y));
  return a.box ? bounded(f, a.box) : f;
};
/** Inside where y < yLine (higher up in the picture). */
const northOf = (yLine: number): Sdf => (_x, y) => y - yLine;

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const box = around;

/** A small deterministic PRNG (mulberry32), so "random" dots are the same on every start. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Soft light circles over the background. */
function bokeh(cv: Canvas, p: Palette, seed: number, count: number) {
  const rnd = seeded(seed);
  const unit = Math.min(cv.width, cv.height);
  for (let i = 0; i < count; i++) {
    const x = rnd() * cv.width;
    const y = rnd() * cv.height;
    const r = unit * (0.04 + rnd() * 0.14);
    cv.fill(circle(x, y, r), p.light, 0.08 + rnd() * 0.12, box(x, y, r + 2));
  }
}

/** The product's motif centred at (cx, cy), `s` pixels for one unit (the motif spans about 2 units). */
function motif(cv: Canvas, kind: Motif, p: Palette, cx: number, cy: number, s: number) {
  const shadow = (sdf: Sdf, b: [number, number, number, number]) => cv.fill(sdf, [0, 0, 0], 0.18, b, s * 0.12);
  const all = box(cx, cy, s * 1.3);
  switch (kind) {
    case "tea": {
      // A cup of green tea with leaves floating above it.
      shadow(ellipse(cx, cy + s * 0.86, s * 0.62, s * 0.12), all);
      cv.fill(roundRect(cx, cy + s * 0.8, s * 0.3, s * 0.06, s * 0.04), p.accent, 1, all);
      cv.fill(intersect(ellipse(cx, cy + s * 0.1, s * 0.72, s * 0.72), (x, y) => cy + s * 0.1 - y), p.light, 1, all);
      cv.fill(ellipse(cx, cy + s * 0.1, s * 0.72, s * 0.16), p.accent, 1, all);
      cv.fill(ellipse(cx, cy + s * 0.1, s * 0.6, s * 0.11), p.ink, 1, all);
      for (const [dx, dy, a, r] of [[-0.35, -0.45, -0.6, 0.3], [0.1, -0.7, 0.3, 0.34], [0.45, -0.35, 0.9, 0.26]] as const) {
        cv.fill(ellipse(cx + dx * s, cy + dy * s, r * s, r * s * 0.38, a), p.ink, 0.95, all);
        cv.fill(ellipse(cx + dx * s, cy + dy * s, r * s * 0.9, s * 0.012, a), p.light, 0.5, all);
      }
      return;
    }
    case "puer": {
      // A pressed tea cake: a disc with rings, wrapped in paper.
      shadow(circle(cx + s * 0.05, cy + s * 0.08, s * 0.92), all);
      cv.fill(circle(cx, cy, s * 0.92), p.light, 1, all);
      cv.fill(circle(cx, cy, s * 0.78), p.ink, 1, all);
      for (const r of [0.2, 0.4, 0.6]) cv.fill(ring(cx, cy, r * s, s * 0.03), p.accent, 0.6, all);
      cv.fill(circle(cx, cy, s * 0.08), p.light, 1, all);
      return;
    }
    case "mug": {
      // A celadon mug: body, handle, a wisp of steam.
      shadow(ellipse(cx, cy + s * 0.85, s * 0.8, s * 0.13), all);
      cv.fill(ring(cx + s * 0.55, cy + s * 0.15, s * 0.3, s * 0.12), p.ink, 1, all);
      cv.fill(roundRect(cx - s * 0.1, cy + s * 0.15, s * 0.55, s * 0.7, s * 0.18), p.ink, 1, all);
      cv.fill(roundRect(cx - s * 0.1, cy + s * 0.0, s * 0.55, s * 0.05, s * 0.03), p.accent, 0.7, all);
      cv.fill(ellipse(cx - s * 0.1, cy - s * 0.55, s * 0.55, s * 0.1), p.accent, 1, all);
      for (const dx of [-0.3, 0.05]) cv.fill(ellipse(cx + (dx - 0.1) * s, cy - s * 0.95, s * 0.06, s * 0.22, 0.3), p.light, 0.7, all);
      return;
    }
    case "fan": {
      // An open folding fan: alternating ribs of a half disc, and its pivot.
      const py = cy + s * 0.55;
      const outer = circle(cx, py, s * 1.05);
      const inner = circle(cx, py, s * 0.3);
      shadow(intersect(circle(cx + s * 0.04, py + s * 0.06, s * 1.05), northOf(py + s * 0.06)), all);
      const ribs = 9;
      for (let i = 0; i < ribs; i++) {
        const a0 = Math.PI + (i / ribs) * Math.PI;
        const a1 = Math.PI + ((i + 1) / ribs) * Math.PI;
        const corners = [a0, a1, (a0 + a1) / 2].map((a) => [cx + Math.cos(a) * s * 1.05, py + Math.sin(a) * s * 1.05] as const).concat([[cx, py]]);
        const xs = corners.map((c) => c[0]);
        const ys = corners.map((c) => c[1]);
        const wedge = bounded((x, y) => {
          const raw = Math.atan2(y - py, x - cx);
          const a = raw < 0 ? raw + 2 * Math.PI : raw;
          const t = a < a0 ? a0 - a : a > a1 ? a - a1 : -Math.min(a - a0, a1 - a);
          return t * Math.hypot(x - cx, y - py);
        }, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
        cv.fill(intersect(subtract(outer, inner), intersect(wedge, northOf(py))), i % 2 ? p.ink : p.accent, 1, all);
      }
      cv.fill(intersect(ring(cx, py, s * 0.85, s * 0.02), northOf(py)), p.light, 0.8, all);
      cv.fill(circle(cx, py, s * 0.1), p.light, 1, all);
      return;
    }
    case "teapot": {
      // A round clay teapot: body, spout, handle, lid and knob.
      shadow(ellipse(cx, cy + s * 0.72, s * 0.85, s * 0.14), all);
      cv.fill(roundRect(cx + s * 0.8, cy - s * 0.05, s * 0.35, s * 0.08, s * 0.08, -0.7), p.ink, 1, all);
      cv.fill(ring(cx - s * 0.78, cy + s * 0.1, s * 0.26, s * 0.1), p.ink, 1, all);
      cv.fill(ellipse(cx, cy + s * 0.15, s * 0.75, s * 0.58), p.ink, 1, all);
      cv.fill(ellipse(cx - s * 0.25, cy - s * 0.05, s * 0.2, s * 0.12, -0.5), p.light, 0.25, all);
      cv.fill(ellipse(cx, cy - s * 0.42, s * 0.38, s * 0.09), p.accent, 1, all);
      cv.fill(circle(cx, cy - s * 0.55, s * 0.1), p.accent, 1, all);
      return;
    }
    case "honey": {
      // A honey jar among honeycomb cells.
      for (const [dx, dy] of [[-0.9, -0.65], [-0.9, 0.35], [0.9, -0.3], [0.9, 0.7]] as const) {
        cv.fill(hexagon(cx + dx * s, cy + dy * s, s * 0.24), p.accent, 0.55, all);
      }
      shadow(ellipse(cx, cy + s * 0.88, s * 0.6, s * 0.12), all);
      cv.fill(roundRect(cx, cy + s * 0.2, s * 0.55, s * 0.68, s * 0.2), p.ink, 1, all);
      cv.fill(roundRect(cx, cy - s * 0.58, s * 0.48, s * 0.12, s * 0.05), p.accent, 1, all);
      cv.fill(roundRect(cx, cy + s * 0.25, s * 0.4, s * 0.22, s * 0.06), p.light, 0.9, all);
      cv.fill(hexagon(cx, cy + s * 0.25, s * 0.12), p.accent, 1, all);
      return;
    }
    case "cake": {
      // Stacked osmanthus cakes with golden flowers.
      for (const [dx, dy] of [[-0.45, 0.35], [0.45, 0.35], [0, -0.25]] as const) {
        const x = cx + dx * s;
        const y = cy + dy * s;
        shadow(roundRect(x + s * 0.04, y + s * 0.06, s * 0.4, s * 0.32, s * 0.08), all);
        cv.fill(roundRect(x, y, s * 0.4, s * 0.32, s * 0.08), p.light, 1, all);
        cv.fill(roundRect(x, y - s * 0.22, s * 0.4, s * 0.1, s * 0.06), p.ink, 0.85, all);
        for (const [fx, fy] of [[-0.15, 0.05], [0.12, 0.12], [0.02, -0.02]] as const) {
          for (let k = 0; k < 4; k++) {
            const a = (k * Math.PI) / 2 + 0.4;
            cv.fill(circle(x + fx * s + Math.cos(a) * s * 0.035, y + fy * s + Math.sin(a) * s * 0.035, s * 0.03), p.accent, 1, all);
          }
        }
      }
      return;
    }
    case "scarf": {
      // A silk scarf: flowing bands across a rounded square.
      const body = roundRect(cx, cy, s * 0.85, s * 0.85, s * 0.12, 0.2);
      shadow(roundRect(cx + s * 0.05, cy + s * 0.07, s * 0.85, s * 0.85, s * 0.12, 0.2), all);
      cv.fill(body, p.light, 1, all);
      for (let i = -3; i <= 3; i++) {
        const mid = cy + i * s * 0.26;
        const band = bounded((x, y) => Math.abs(y - mid - Math.sin((x - cx) / (s * 0.3)) * s * 0.08) - s * 0.06, [cx - s * 1.2, mid - s * 0.16, cx + s * 1.2, mid + s * 0.16]);
        cv.fill(intersect(body, band), i % 2 ? p.ink : p.accent, 0.9, all);
      }
      cv.fill(ring(cx, cy, s * 0.3, s * 0.05), p.ink, 0.6, all);
      return;
    }
  }
}

/** A square product picture. */
export function productPicture(kind: Motif, p: Palette, size = 600, variant = 0): Buffer {
  const cv = new Canvas(size, size);
  cv.gradient(variant ? mix(p.from, p.to, 0.35) : p.from, p.to);
  bokeh(cv, p, 7 + variant * 31 + kind.length * 101, 9);
  motif(cv, kind, p, size / 2, size / 2, size * 0.3);
  return cv.encode();
}

/** A wide home-page banner (750×300 by default) with up to three motifs. */
export function bannerPicture(kinds: Motif[], p: Palette, width = 750, height = 300): Buffer {
  const cv = new Canvas(width, height);
  cv.gradient(p.from, p.to);
  bokeh(cv, p, 11 + kinds.length * 17, 14);
  // A bright band on the left where a page may lay its text.
  cv.fill(roundRect(width * 0.27, height / 2, width * 0.2, height * 0.28, height * 0.1), p.light, 0.22);
  kinds.forEach((k, i) => motif(cv, k, p, width * (0.6 + i * 0.22), height * (0.5 + (i % 2 ? -0.04 : 0.04)), height * (0.25 - i * 0.03)));
  return cv.encode();
}

/** A 16:9 stream cover: the motif on a gradient with a "live" dot. */
export function coverPicture(kind: Motif, p: Palette, width = 640, height = 360): Buffer {
  const cv = new Canvas(width, height);
  cv.gradient(p.from, p.to);
  bokeh(cv, p, 23 + kind.length * 7, 16);
  motif(cv, kind, p, width * 0.62, height * 0.52, height * 0.3);
  cv.fill(roundRect(width * 0.14, height * 0.14, width * 0.08, height * 0.05, height * 0.05), [250, 44, 25], 0.95);
  cv.fill(circle(width * 0.085, height * 0.14, height * 0.018), [255, 255, 255], 1);
  return cv.encode();
}

/** A round category icon (120×120 by default). */
export function iconPicture(kind: Motif, p: Palette, size = 120): Buffer {
  const cv = new Canvas(size, size);
  cv.gradient([255, 255, 255], [255, 255, 255]);
  cv.fill(circle(size / 2, size / 2, size * 0.48), p.from, 1);
  cv.fill(circle(size / 2, size / 2, size * 0.48), p.to, 0.5, undefined, size * 0.3);
  motif(cv, kind, p, size / 2, size / 2, size * 0.28);
  return cv.encode();
}
