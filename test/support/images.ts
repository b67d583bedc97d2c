import { PNG } from "pngjs";

/** A solid-colour PNG of the given size (different colours make different bytes). */
export function testPng(width: number, height: number, rgb: [number, number, number] = [10, 20, 30]) {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  return PNG.sync.write(png);
}

/** A 24×16 baseline JPEG (made with ffmpeg). */
export const testJpeg = Buffer.from(
  "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABMAAEBAAAAAAAAAAAAAAAAAAAABAEBAQAAAAAAAAAAAAAAAAAAAAYQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAQABgDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCEBcJcAB//2Q==",
  "base64",
);

/** What wx.uploadFile sends: multipart/form-data with the file in `field` (default `file`). */
export async function upload<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  token: string | undefined,
  bytes: Buffer,
  opts: { field?: string; filename?: string; type?: string; fields?: Record<string, string> } = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
  form.append(opts.field ?? "file", new Blob([new Uint8Array(bytes)], { type: opts.type ?? "application/octet-stream" }), opts.filename ?? "upload.bin");
  const res = await fetch(`${baseUrl}${path}`, { method: "POST", body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
