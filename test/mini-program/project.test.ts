// The mini program opens as a WeChat project: config files parse, every page and component has its
// files, every require stays inside mini-program/ (no npm, no Node built-ins), every event handler
// named in WXML exists, and the main package the uploader ships stays under WeChat's 2 MB.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, extname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../mini-program");
const MAIN_PACKAGE_LIMIT = 2 * 1024 * 1024;
const PAGE_FILES = [".js", ".json", ".wxml", ".wxss"];

type Json = Record<string, unknown>;
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Json;
const rel = (file: string) => relative(ROOT, file).split(sep).join("/");

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

const files = walk(ROOT);
const app = readJson(join(ROOT, "app.json"));
const pages = app.pages as string[];

/** A usingComponents value → the component's path without extension (absolute = from the root). */
function componentBase(fromJson: string, value: string) {
  return value.startsWith("/") ? join(ROOT, value) : resolve(dirname(fromJson), value);
}

/** The files the uploader would ship: everything but packOptions.ignore (DevTools' own rules). */
function shippedFiles(project: Json) {
  const pack = (project.packOptions ?? {}) as { ignore?: { type: string; value: string }[] };
  const rules = pack.ignore ?? [];
  const ignored = (path: string) =>
    rules.some(({ type, value }) => {
      const v = value.replace(/^\.?\//, "");
      switch (type) {
        case "file":
          return path === v;
        case "folder":
          return path === v || path.startsWith(`${v.replace(/\/$/, "")}/`);
        case "suffix":
          return path.endsWith(v);
        case "prefix":
          return posix.basename(path).startsWith(v);
        case "regexp":
          return new RegExp(value).test(path);
        case "glob":
          return new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\/?/g, ".*").replace(/\*/g, "[^/]*")}$`).test(path);
        default:
          throw new Error(`unknown packOptions.ignore type ${type}`);
      }
    });
  // project.private.config.json is a developer's own settings, never uploaded.
  return files.filter((f) => !ignored(rel(f)) && posix.basename(rel(f)) !== "project.private.config.json");
}

describe("mini program project", () => {
  it("project.config.json and sitemap.json parse, with the fields DevTools needs", () => {
    const project = readJson(join(ROOT, "project.config.json"));
    expect(project.compileType).toBe("miniprogram");
    expect(typeof project.appid).toBe("string");
    expect((project.appid as string).length).toBeGreaterThan(0);
    expect(typeof project.projectname).toBe("string");
    expect(typeof project.libVersion).toBe("string");
    expect(typeof project.setting).toBe("object");
    const sitemap = readJson(join(ROOT, "sitemap.json"));
    for (const rule of sitemap.rules as { page: string }[]) {
      if (rule.page !== "*") expect(pages).toContain(rule.page);
    }
  });

  it("every page in app.json has its four files, and the tab bar lists only pages", () => {
    expect(pages.length).toBeGreaterThan(0);
    const missing = pages.flatMap((p) => PAGE_FILES.map((ext) => `${p}${ext}`).filter((f) => !existsSync(join(ROOT, f))));
    expect(missing).toEqual([]);
    const tabs = ((app.tabBar as { list: { pagePath: string }[] }).list ?? []).map((t) => t.pagePath);
    for (const tab of tabs) expect(pages).toContain(tab);
    for (const p of pages) {
      const js = readFileSync(join(ROOT, `${p}.js`), "utf8");
      // miniprogram-simulate (and our tests) load pages written with Component().
      expect(js, `${p}.js builds its page with Component()`).toMatch(/\bComponent\(\{/);
    }
  });

  it("every usingComponents path resolves to a component with its files", () => {
    const jsonFiles = files.filter((f) => f.endsWith(".json"));
    const problems: string[] = [];
    for (const jsonFile of jsonFiles) {
      const using = (readJson(jsonFile).usingComponents ?? {}) as Record<string, string>;
      for (const [tag, value] of Object.entries(using)) {
        const base = componentBase(jsonFile, value);
        if (!base.startsWith(ROOT + sep)) problems.push(`${rel(jsonFile)}: ${tag} → ${value} leaves mini-program/`);
        for (const ext of [".js", ".json", ".wxml"]) {
          if (!existsSync(base + ext)) problems.push(`${rel(jsonFile)}: ${tag} → ${value}${ext} is missing`);
        }
        if (existsSync(`${base}.json`) && readJson(`${base}.json`).component !== true) problems.push(`${value}.json lacks "component": true`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every require resolves to a file inside mini-program/, and nothing requires a Node built-in or npm", () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const problems: string[] = [];
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const source = readFileSync(file, "utf8");
      for (const m of source.matchAll(/\brequire\(\s*(['"`])([^'"`]+)\1\s*\)/g)) {
        const spec = m[2]!;
        if (builtins.has(spec) || builtins.has(spec.split("/")[0]!)) {
          problems.push(`${rel(file)} requires the Node built-in ${spec}`);
          continue;
        }
        if (!spec.startsWith(".") && !spec.startsWith("/")) {
          problems.push(`${rel(file)} requires the package ${spec} (the mini program has no node_modules)`);
          continue;
        }
        const base = spec.startsWith("/") ? join(ROOT, spec) : resolve(dirname(file), spec);
        const target = [base, `${base}.js`, join(base, "index.js")].find((c) => existsSync(c) && statSync(c).isFile());
        if (!target) problems.push(`${rel(file)}: require('${spec}') does not resolve`);
        else if (!target.startsWith(ROOT + sep)) problems.push(`${rel(file)}: require('${spec}') leaves mini-program/`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every event handler a WXML file names is a method of its JS", () => {
    const problems: string[] = [];
    for (const wxml of files.filter((f) => f.endsWith(".wxml"))) {
      const js = wxml.slice(0, -".wxml".length) + ".js";
      if (!existsSync(js)) continue;
      const source = readFileSync(js, "utf8");
      const markup = readFileSync(wxml, "utf8");
      for (const m of markup.matchAll(/\s(?:bind|catch|capture-bind|capture-catch|mut-bind):?[a-z]+="([^"{}]+)"/g)) {
        const handler = m[1]!;
        if (!new RegExp(`\\b${handler}\\s*\\(`).test(source)) problems.push(`${rel(wxml)} names ${handler}, which ${rel(js)} does not define`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the main package the uploader ships is under 2 MB", () => {
    const project = readJson(join(ROOT, "project.config.json"));
    const shipped = shippedFiles(project);
    const bytes = shipped.reduce((n, f) => n + statSync(f).size, 0);
    const byExt = new Map<string, number>();
    for (const f of shipped) byExt.set(extname(f) || "(none)", (byExt.get(extname(f) || "(none)") ?? 0) + statSync(f).size);
    const breakdown = [...byExt.entries()].sort((a, b) => b[1] - a[1]).map(([ext, n]) => `${ext} ${(n / 1024).toFixed(1)} KB`).join(", ");
    console.log(`mini program main package: ${shipped.length} files, ${(bytes / 1024).toFixed(1)} KB of 2048 KB (${breakdown})`);
    expect(shipped.some((f) => rel(f) === "app.js")).toBe(true);
    expect(bytes).toBeLessThan(MAIN_PACKAGE_LIMIT);
  });
});
