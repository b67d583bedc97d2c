// The server as production runs it: `npm run build:server` compiles the modules `src/main.ts` and
// `src/admin-cli.ts` reach, one JavaScript file each, to `dist/` (same layout as `src/`, with source
// maps), and copies the SQL migrations beside them. `npm start` then runs `node dist/main.js`: no
// TypeScript loader at run time, and only `dependencies` needed. The test suites and the benches
// run the same build (test/global-setup.ts, load-tests/fanout/server-process.ts).
//
// esbuild only strips types (tsconfig has isolatedModules and verbatimModuleSyntax, so each file
// compiles alone); `tsc --noEmit` in `npm test` is what checks them.
import { build } from "esbuild";
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What production starts; relative to the repository root. */
export const BUILT_SERVER = "dist/main.js";
export const BUILT_ADMIN_CLI = "dist/admin-cli.js";
/** Node's flags for the built files: stack traces name the TypeScript lines. */
export const BUILT_NODE_ARGS = ["--enable-source-maps"];

const ENTRIES = ["src/main.ts", "src/admin-cli.ts"];
/** Written last: the build is complete when it is there. */
const STAMP = "dist/.built";

function newestUnder(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestUnder(path) : stat.mtimeMs);
  }
  return newest;
}

/** True when `dist/` is missing or older than anything under `src/`, the lock file or this script. */
export function serverBuildIsStale(root = ROOT): boolean {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const sources = Math.max(newestUnder(join(root, "src")), ...["package-lock.json", "scripts/build-server.ts"].map((f) => statSync(join(root, f)).mtimeMs));
  return sources > built;
}

/**
 * Builds `dist/` from `src/`. The new tree is made beside the old one and swapped in by renames, so a
 * server already running from `dist/` never sees half a build.
 */
export async function buildServer(root = ROOT): Promise<{ files: number }> {
  const reached = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    outdir: "dist.scan",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const sources = Object.keys(reached.metafile.inputs).filter((f) => f.startsWith("src/") && f.endsWith(".ts"));
  const next = join(root, `dist.next-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: sources,
    outdir: next,
    outbase: "src",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    logLevel: "warning",
  });
  cpSync(join(root, "src/db/migrations"), join(next, "db/migrations"), { recursive: true });
  writeFileSync(join(next, relative("dist", STAMP)), `${new Date().toISOString()}\n`);
  const dist = join(root, "dist");
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(next, dist);
  rmSync(old, { recursive: true, force: true });
  return { files: sources.length };
}

/** Builds when stale; says what it did on stderr. */
export async function ensureServerBuild(root = ROOT) {
  if (!serverBuildIsStale(root)) return;
  const { files } = await buildServer(root);
  process.stderr.write(`build:server: ${files} modules to dist/\n`);
}

/**
 * A bench's own server file (load-tests/…/*.server.ts) compiled against the built modules: its own
 * code in one file under `dist/bench/`, every `src/` module it imports taken from `dist/`. A bench then
 * measures the server's code as production runs it. Returns the built file, relative to `root`.
 */
export async function buildAgainstServer(file: string, root = ROOT): Promise<string> {
  await ensureServerBuild(root);
  const out = join("dist/bench", basename(file).replace(/\.ts$/, ".js"));
  const src = join(root, "src");
  await build({
    absWorkingDir: root,
    entryPoints: [file],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    outfile: out,
    logLevel: "warning",
    plugins: [
      {
        name: "src-from-dist",
        setup(b) {
          b.onResolve({ filter: /^\./ }, (args) => {
            const target = resolve(args.resolveDir, args.path);
            if (!target.startsWith(`${src}/`)) return undefined;
            const path = relative(join(root, dirname(out)), join(root, "dist", relative(src, target)));
            return { path: path.startsWith(".") ? path : `./${path}`, external: true };
          });
        },
      },
    ],
  });
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files } = await buildServer();
  console.log(`build:server: ${files} modules from src/ to dist/ (${BUILT_SERVER}, ${BUILT_ADMIN_CLI})`);
}
