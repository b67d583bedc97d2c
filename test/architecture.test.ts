// The structure, read from the source: domain modules never import a transport, and only the order
// lifecycle writes order state, stock, flash units and coupon use.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ORDER_LIFECYCLE } from "../src/orders/lifecycle.js";
import { ROOM_LIFE } from "../src/realtime/room-life.js";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** Every non-test TypeScript file under src/, as a path relative to src/ with forward slashes. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "migrations" ? [] : sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [relative(SRC, path).split("\\").join("/")] : [];
  });
}

/** The src/-relative folder or file each relative import of `file` names. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"';]*?from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
    out.push(relative(SRC, join(SRC, file, "..", m[1]!)).split("\\").join("/"));
  }
  return out;
}

const TRANSPORTS = ["http/", "realtime/", "uws/"];
/** Code that decides what the product does; it is reached through transports, never the other way round. */
const DOMAIN = ["auth/", "catalog/", "coupons/", "db/", "flash/", "groups/", "jobs/", "live/", "media/", "orders/", "payments/", "reports/", "shopping/", "staff/"];

describe("layers", () => {
  const files = sourceFiles();

  it("finds the source", () => {
    expect(files).toContain("app.ts");
    expect(files.filter((f) => f.startsWith("orders/")).length).toBeGreaterThan(2);
  });

  it("no domain module imports a transport (http, realtime, uws)", () => {
    const upward = files
      .filter((f) => DOMAIN.some((d) => f.startsWith(d)))
      .flatMap((f) => importsOf(f).filter((i) => TRANSPORTS.some((t) => i.startsWith(t))).map((i) => `${f} → ${i}`));
    expect(upward).toEqual([]);
  });

  it("the database layer is the floor: db/ imports only itself and the shared basics (the demo's seed lives in demo/)", () => {
    const BASICS = ["log.js", "unavailable.js", "config.js", "protocol/"];
    const upward = files
      .filter((f) => f.startsWith("db/"))
      .flatMap((f) => importsOf(f).filter((i) => !i.startsWith("db/") && !BASICS.some((b) => i.startsWith(b))).map((i) => `${f} → ${i}`));
    expect(upward).toEqual([]);
  });

  it("realtime and the WeChat sandbox use the shared uWS plumbing, not the HTTP API's", () => {
    const upward = files
      .filter((f) => f.startsWith("realtime/") || f.startsWith("wechat/") || f.startsWith("uws/"))
      .flatMap((f) => importsOf(f).filter((i) => i.startsWith("http/")).map((i) => `${f} → ${i}`));
    expect(upward).toEqual([]);
  });
});

/** Names a file gives to `table` imported from `schemaFile` (db/*.schema.ts), aliases included. */
function tableNames(text: string, table: string, schemaFile: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    if (!m[2]!.endsWith(`/${schemaFile}`) && !m[2]!.endsWith("/schema.js")) continue;
    for (const part of m[1]!.split(",")) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (name === table) names.push(alias ?? name);
    }
  }
  return names;
}

/** A table as the source names it: its drizzle name, its schema file, its SQL name; `updates`: only updates count as writes. */
type Table = { name: string; schema: string; sql: string; updates?: boolean };

/** Each write to `table` in `file` (drizzle insert/update/delete, or raw SQL), with its statement's text. */
function writesTo(file: string, table: Table): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const [verbs, sqlVerbs] = table.updates ? ["update", "update"] : ["insert|update|delete", "update|insert\\s+into|delete\\s+from"];
  const out: string[] = [];
  for (const name of tableNames(text, table.name, table.schema)) {
    for (const m of text.matchAll(new RegExp(`\\.(?:${verbs})\\(\\s*${name}\\s*\\)[^;]*`, "g"))) out.push(m[0]);
  }
  for (const m of text.matchAll(new RegExp(`(?:${sqlVerbs})\\s+"?${table.sql}\\b[^;\`]*`, "gi"))) out.push(m[0]);
  return out;
}

describe("the order lifecycle owns order state, stock, flash units and coupon use", () => {
  const files = sourceFiles();
  // The lifecycle, the flash batches it writes (created by it alone) and its effects.
  const LIFECYCLE = ["orders/lifecycle.ts", "orders/flash-batch.ts", "orders/inventory.ts"];
  const ORDERS: Table = { name: "orders", schema: "orders.schema.js", sql: "orders" };
  // A SKU is created with its stock (catalog, demo data); moving stock is an update.
  const SKUS: Table = { name: "skus", schema: "catalog.schema.js", sql: "skus", updates: true };
  const SALES: Table = { name: "flashSales", schema: "flash.schema.js", sql: "flash_sales" };
  const BUYERS: Table = { name: "flashBuyers", schema: "flash.schema.js", sql: "flash_buyers" };
  const CLAIMS: Table = { name: "couponClaims", schema: "coupons.schema.js", sql: "coupon_claims" };
  const outside = (table: Table, touches: RegExp | null, allowed: string[] = []) =>
    files
      .filter((f) => !LIFECYCLE.includes(f) && !allowed.includes(f))
      .flatMap((f) => writesTo(f, table).filter((w) => touches === null || touches.test(w)).map((w) => `${f}: ${w.slice(0, 80)}`));

  it("finds the writes it looks for", () => {
    expect(writesTo("orders/lifecycle.ts", ORDERS).length).toBeGreaterThanOrEqual(3);
    expect(writesTo("orders/inventory.ts", SKUS).length).toBeGreaterThanOrEqual(2);
    expect(writesTo("orders/inventory.ts", BUYERS).length).toBeGreaterThanOrEqual(2);
    expect(writesTo("orders/inventory.ts", CLAIMS).filter((w) => /usedOrderId/.test(w)).length).toBe(2);
  });

  it("no other module writes orders (status, deadlines, refunded sums)", () => {
    expect(outside(ORDERS, null)).toEqual([]);
  });

  it("no other module moves stock (the catalog's admin edit of a SKU aside), flash units or coupon use", () => {
    expect(outside(SKUS, null, ["catalog/catalog.repo.ts"])).toEqual([]);
    expect(outside(SALES, /\bsold\b/)).toEqual([]);
    expect(outside(BUYERS, null)).toEqual([]);
    expect(outside(CLAIMS, /usedOrderId|used_order_id/)).toEqual([]);
  });

  it("only the lifecycle calls the effects, and only it makes flash batches", () => {
    const importers = files.filter((f) => importsOf(f).includes("orders/inventory.js"));
    expect(importers.sort()).toEqual(["orders/flash-batch.ts", "orders/lifecycle.ts"]);
    const makers = files.filter((f) => f !== "orders/flash-batch.ts" && /\bcreateFlashBatches\(/.test(readFileSync(join(SRC, f), "utf8")));
    expect(makers).toEqual(["orders/lifecycle.ts"]);
  });
});

/** The rows of ARCHITECTURE.md's table between `<!-- name:begin -->` and `<!-- name:end -->`, as trimmed cells. */
function docTable(name: string): string[][] {
  const doc = readFileSync(fileURLToPath(new URL("../ARCHITECTURE.md", import.meta.url)), "utf8");
  const block = new RegExp(`<!-- ${name}:begin -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(doc)?.[1] ?? "";
  return block
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| from") && !l.startsWith("| ---"))
    .map((line) => line.split("|").slice(1, -1).map((c) => c.trim()));
}
/** The `code` words of a table cell. */
const words = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe("ARCHITECTURE.md's order lifecycle table", () => {
  it("is the code's table, row for row", () => {
    const documented = docTable("order-lifecycle").flatMap((cells) => {
      const [from, on, to, effects, then] = cells as [string, string, string, string, string];
      const froms = from === "(new)" ? [null] : words(from);
      return froms.map((f) => JSON.stringify([f, words(on)[0], to === "(same)" ? f : words(to)[0], words(effects), words(then)[0] ?? null]));
    });
    const code = ORDER_LIFECYCLE.map((r) => JSON.stringify([r.from, r.on, r.to, r.effects, r.then ?? null]));
    expect(documented.sort()).toEqual(code.sort());
  });
});

describe("the hub", () => {
  const files = sourceFiles();
  const HUB = ["realtime/hub.ts", "realtime/room.ts", "realtime/room-feed.ts", "realtime/room-life.ts", "realtime/room-presence.ts", "realtime/append-queue.ts"];
  const IMPLEMENTATIONS = ["realtime/broker/broker.redis.js", "realtime/broker/broker.memory.js", "realtime/room-store.redis.js"];

  it("talks only to the broker interface: no implementation of it, no Redis client", () => {
    expect(HUB.every((f) => files.includes(f))).toBe(true);
    const reaching = HUB.flatMap((f) => {
      const text = readFileSync(join(SRC, f), "utf8");
      const named = importsOf(f).filter((i) => IMPLEMENTATIONS.includes(i) || i.startsWith("redis/"));
      return [...named, ...(/from\s+["']ioredis["']/.test(text) ? ["ioredis"] : [])].map((i) => `${f} → ${i}`);
    });
    expect(reaching).toEqual([]);
  });

  it("gets its broker from the app's composition, which alone picks the implementation", () => {
    const pickers = files.filter((f) => !f.startsWith("realtime/broker/") && importsOf(f).some((i) => i === "realtime/broker/broker.redis.js" || i === "realtime/broker/broker.memory.js"));
    expect(pickers).toEqual(["app.ts"]);
  });
});

describe("ARCHITECTURE.md's room life table", () => {
  it("is the code's table, row for row", () => {
    const documented = docTable("room-life").flatMap((cells) => {
      const [from, on, to] = cells as [string, string, string];
      return words(from).flatMap((f) => words(on).map((e) => JSON.stringify([f, e, to === "(same)" ? f : words(to)[0]])));
    });
    const code = Object.entries(ROOM_LIFE).flatMap(([from, row]) => Object.entries(row).map(([on, to]) => JSON.stringify([from, on, to])));
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.sort()).toEqual(code.sort());
  });
});
