/**
 * Bundles the zod-free client protocol (src/protocol/client.ts + errors.ts) for the clients that
 * cannot import TypeScript or node_modules: the mini program (CommonJS, ES2017) and the k6 scripts
 * (ESM, ES2015; k6 0.48 has no BigInt). `npm run build:clients` writes both; a test
 * (test/client-bundles.test.ts) fails when a committed bundle differs from a fresh build.
 */
import { build, type BuildOptions } from "esbuild";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

const header = (format: string) =>
  `// GENERATED from src/protocol/client.ts and src/protocol/errors.ts by \`npm run build:clients\` (${format}).\n` +
  `// Do not edit: change src/protocol and run the command again (a test fails when this file is stale).\n` +
  `/* eslint-disable */\n`;

/** Each bundle: where it goes and how it is built. */
export const CLIENT_BUNDLES: readonly { path: string; options: BuildOptions }[] = [
  { path: "mini-program/lib/protocol.js", options: { format: "cjs", target: "es2017", banner: { js: header("CommonJS, ES2017, for the mini program") } } },
  { path: "load-tests/k6/lib/protocol.js", options: { format: "esm", target: "es2015", banner: { js: header("ES module, ES2015, for k6") } } },
];

/** Builds every bundle in memory: relative path → file text. */
export async function buildClientBundles(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of CLIENT_BUNDLES) {
    const result = await build({
      entryPoints: [`${root}src/protocol/client.ts`],
      bundle: true,
      write: false,
      platform: "neutral",
      charset: "utf8",
      legalComments: "none",
      logLevel: "silent",
      ...b.options,
    });
    out.set(b.path, result.outputFiles![0]!.text);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, text] of await buildClientBundles()) {
    writeFileSync(`${root}${path}`, text);
    console.log(`wrote ${path} (${text.length} bytes)`);
  }
}
