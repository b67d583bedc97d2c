import { crc32 } from "node:zlib";

export type ImageKind = { ext: "png" | "jpg" | "webp"; contentType: "image/png" | "image/jpeg" | "image/webp" };
export type ImageInfo = ImageKind & { width: number; height: number };

export const CONTENT_TYPES: Record<ImageKind["ext"], ImageKind["contentType"]> = { png: "image/png", jpg: "image/jpeg", webp: "image/webp" };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * What an image is, judged by its bytes alone (never by a file name or a client's Content-Type):
 * PNG (every chunk's CRC checked, IHDR first, IEND last), JPEG (markers walked to the frame
 * header), or WebP (RIFF size and the VP8 / VP8L / VP8X header). Null for anything else, including
 * a known signature followed by garbage.
 */
export function probeImage(bytes: Buffer): ImageInfo | null {
  try {
    return png(bytes) ?? jpeg(bytes) ?? webp(bytes);
  } catch {
    // A read past the end (RangeError): the structure is broken.
    return null;
  }
}

function png(b: Buffer): ImageInfo | null {
  if (b.length < 8 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  let at = 8;
  let width = 0;
  let height = 0;
  let first = true;
  while (at < b.length) {
    const length = b.readUInt32BE(at);
    const type = b.toString("latin1", at + 4, at + 8);
    const end = at + 12 + length;
    if (!/^[A-Za-z]{4}$/.test(type) || end > b.length) return null;
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== b.readUInt32BE(at + 8 + length)) return null;
    if (first) {
      if (type !== "IHDR" || length !== 13) return null;
      width = b.readUInt32BE(at + 8);
      height = b.readUInt32BE(at + 12);
      first = false;
    }
    if (type === "IEND") return end === b.length && width > 0 && height > 0 ? { ext: "png", contentType: "image/png", width, height } : null;
    at = end;
  }
  return null;
}

// Start-of-frame markers that carry the image size (not DHT C4, JPG C8, DAC CC).
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Buffer): ImageInfo | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return null;
  // The data must end with EOI (a few trailing padding bytes are tolerated).
  if (b.subarray(Math.max(2, b.length - 16)).lastIndexOf(Buffer.from([0xff, 0xd9])) < 0) return null;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) return null;
    const length = b.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > b.length) return null;
    if (SOF.has(marker)) {
      if (length < 8) return null;
      const height = b.readUInt16BE(at + 5);
      const width = b.readUInt16BE(at + 7);
      return width > 0 && height > 0 ? { ext: "jpg", contentType: "image/jpeg", width, height } : null;
    }
    if (marker === 0xda) return null; // scan data before any frame header
    at += 2 + length;
  }
  return null;
}

function webp(b: Buffer): ImageInfo | null {
  if (b.length < 30 || b.toString("latin1", 0, 4) !== "RIFF" || b.toString("latin1", 8, 12) !== "WEBP") return null;
  const riffSize = b.readUInt32LE(4);
  if (riffSize + 8 !== b.length && riffSize + 9 !== b.length) return null; // odd sizes carry one pad byte
  const chunk = b.toString("latin1", 12, 16);
  const size = b.readUInt32LE(16);
  if (20 + size > b.length) return null;
  let width = 0;
  let height = 0;
  if (chunk === "VP8X") {
    width = b.readUIntLE(24, 3) + 1;
    height = b.readUIntLE(27, 3) + 1;
  } else if (chunk === "VP8L") {
    if (b[20] !== 0x2f) return null;
    const bits = b.readUInt32LE(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8 ") {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    width = b.readUInt16LE(26) & 0x3fff;
    height = b.readUInt16LE(28) & 0x3fff;
  } else {
    return null;
  }
  return width > 0 && height > 0 ? { ext: "webp", contentType: "image/webp", width, height } : null;
}
