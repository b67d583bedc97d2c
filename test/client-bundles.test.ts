// The generated protocol bundles of the mini program and the k6 scripts match src/protocol.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { buildClientBundles, CLIENT_BUNDLES } from "../scripts/build-clients.js";
import * as client from "../src/protocol/client.js";

const root = new URL("../", import.meta.url);

describe("client protocol bundles", () => {
  it.each(CLIENT_BUNDLES.map((b) => b.path))("%s is what `npm run build:clients` makes from src/protocol", async (path) => {
    const fresh = (await buildClientBundles()).get(path)!;
    let committed = "";
    try {
      committed = readFileSync(new URL(path, root), "utf8");
    } catch {
      // missing: reported below
    }
    expect(committed === fresh, `${path} is stale or missing: run \`npm run build:clients\` and commit it`).toBe(true);
  });

  it("the mini program's bundle is CommonJS with everything client.ts exports, and no BigInt anywhere", async () => {
    const require = createRequire(import.meta.url);
    const mini = require("../mini-program/lib/protocol.js") as Record<string, unknown>;
    expect(Object.keys(mini).sort()).toEqual(Object.keys(client).sort());
    for (const text of (await buildClientBundles()).values()) expect(text).not.toMatch(/BigInt|\d+n\b/);
  });
});
