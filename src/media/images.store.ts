import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A stored file's name: `<sha256>.<ext>`; nothing else is ever joined to the folder. */
export const STORED_NAME = /^[0-9a-f]{64}\.(?:png|jpg|webp)$/;

/**
 * Image files in one folder, one per content hash. A file appears whole or not at all (written to
 * a temporary name, then renamed), so a reader never sees half an image and two nodes writing the
 * same bytes at once both end with the same file.
 */
export function createImageStore(dir: string) {
  let ready: Promise<unknown> | null = null;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true }));

  function pathOf(name: string) {
    if (!STORED_NAME.test(name)) throw new Error(`not a stored image name: ${name}`);
    return join(dir, name);
  }

  return {
    dir,
    /** Stores `bytes` under `name` unless a file of that name (and so those bytes) is already there. */
    async put(name: string, bytes: Buffer) {
      const path = pathOf(name);
      await ensureDir();
      const existing = await stat(path).catch(() => null);
      if (existing?.size === bytes.length) return;
      const tmp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(tmp, bytes, { flag: "wx" });
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    /** The file's bytes, or null when `name` is not a stored image. */
    async get(name: string): Promise<Buffer | null> {
      if (!STORED_NAME.test(name)) return null;
      try {
        return await readFile(join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
  };
}

export type ImageStore = ReturnType<typeof createImageStore>;
