import busboy from "busboy";
import { AppError } from "../protocol/errors.js";

/** One file from a multipart/form-data body (what `wx.uploadFile` sends). */
export interface UploadedFile {
  bytes: Buffer;
  /** As the client named it; never used to decide anything. */
  filename: string;
}

/** Room for the multipart framing and a few small form fields around the file. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * The file in form field `field` of a multipart/form-data body: INVALID_PARAMS when the body is
 * not multipart or has no such file, PAYLOAD_TOO_LARGE past `maxBytes`.
 */
export function readUpload(headers: Record<string, string>, body: Buffer, opts: { field: string; maxBytes: number }): Promise<UploadedFile> {
  const wrongShape = () => new AppError("INVALID_PARAMS", `Send multipart/form-data with the file in field \`${opts.field}\`.`);
  if (!/^multipart\/form-data\b/i.test(headers["content-type"] ?? "")) return Promise.reject(wrongShape());
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers, limits: { files: 4, fileSize: opts.maxBytes, fields: 20, fieldSize: 4096, parts: 30 } });
    } catch {
      reject(wrongShape());
      return;
    }
    let found: UploadedFile | null = null;
    let failure: AppError | null = null;
    parser.on("file", (name, stream, info) => {
      if (name !== opts.field || found) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("limit", () => (failure ??= new AppError("PAYLOAD_TOO_LARGE", `The file may be at most ${opts.maxBytes} bytes.`, { maxBytes: opts.maxBytes })));
      stream.on("end", () => {
        if (!stream.truncated) found = { bytes: Buffer.concat(chunks), filename: info.filename ?? "" };
      });
    });
    parser.on("error", () => reject(failure ?? new AppError("INVALID_PARAMS", "The multipart body is malformed.")));
    parser.on("close", () => {
      if (failure) reject(failure);
      else if (!found) reject(wrongShape());
      else resolve(found);
    });
    parser.end(body);
  });
}
