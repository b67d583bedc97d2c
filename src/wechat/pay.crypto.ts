import { createCipheriv, createDecipheriv, createSign, createVerify, randomBytes } from "node:crypto";

/**
 * WeChat Pay API v3 cryptography, shared by our client and the sandbox: SHA256-RSA2048 signatures
 * over the v3 message formats, and AEAD_AES_256_GCM for notification resources.
 */

export const AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048";
export const SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/";

export const nonce = () => randomBytes(16).toString("hex").toUpperCase();
export const unixSeconds = () => String(Math.floor(Date.now() / 1000));

export function sign(privateKeyPem: string, message: string): string {
  return createSign("RSA-SHA256").update(message).sign(privateKeyPem, "base64");
}

export function verify(publicKeyPem: string, message: string, signature: string): boolean {
  try {
    return createVerify("RSA-SHA256").update(message).verify(publicKeyPem, signature, "base64");
  } catch {
    return false;
  }
}

/** The request message: method, path with query, timestamp, nonce, body, each line-terminated. */
export const requestMessage = (method: string, pathWithQuery: string, timestamp: string, nonceStr: string, body: string) =>
  `${method}\n${pathWithQuery}\n${timestamp}\n${nonceStr}\n${body}\n`;

/** The response / notification message: timestamp, nonce, body. */
export const responseMessage = (timestamp: string, nonceStr: string, body: string) => `${timestamp}\n${nonceStr}\n${body}\n`;

/** wx.requestPayment's paySign message: appId, timeStamp, nonceStr, package. */
export const paySignMessage = (appId: string, timeStamp: string, nonceStr: string, pkg: string) =>
  `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;

export function authorizationHeader(opts: {
  mchid: string;
  serialNo: string;
  privateKey: string;
  method: string;
  pathWithQuery: string;
  body: string;
}): string {
  const timestamp = unixSeconds();
  const nonceStr = nonce();
  const signature = sign(opts.privateKey, requestMessage(opts.method, opts.pathWithQuery, timestamp, nonceStr, opts.body));
  return `${AUTH_SCHEMA} mchid="${opts.mchid}",nonce_str="${nonceStr}",signature="${signature}",timestamp="${timestamp}",serial_no="${opts.serialNo}"`;
}

/** The fields of a v3 Authorization header, or null when it is not one. */
export function parseAuthorization(header: string | undefined): Record<"mchid" | "nonce_str" | "signature" | "timestamp" | "serial_no", string> | null {
  if (!header?.startsWith(`${AUTH_SCHEMA} `)) return null;
  const fields: Record<string, string> = {};
  for (const m of header.slice(AUTH_SCHEMA.length + 1).matchAll(/(\w+)="([^"]*)"/g)) fields[m[1]!] = m[2]!;
  for (const k of ["mchid", "nonce_str", "signature", "timestamp", "serial_no"]) if (!fields[k]) return null;
  return fields;
}

export interface EncryptedResource {
  algorithm: "AEAD_AES_256_GCM";
  ciphertext: string;
  associated_data: string;
  nonce: string;
  original_type: string;
}

/** AEAD_AES_256_GCM with the APIv3 key: ciphertext is base64(encrypted ‖ 16-byte tag). */
export function encryptResource(apiV3Key: string, plaintext: string, associatedData: string, originalType: string): EncryptedResource {
  const iv = randomBytes(6).toString("hex");
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(apiV3Key, "utf8"), Buffer.from(iv, "utf8"));
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const encrypted = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { algorithm: "AEAD_AES_256_GCM", ciphertext: encrypted.toString("base64"), associated_data: associatedData, nonce: iv, original_type: originalType };
}

/** Throws when the key, nonce, associated data or ciphertext do not authenticate. */
export function decryptResource(apiV3Key: string, r: { ciphertext: string; associated_data?: string; nonce: string }): string {
  const data = Buffer.from(r.ciphertext, "base64");
  if (data.length < 17) throw new Error("ciphertext too short");
  const decipher = createDecipheriv("aes-256-gcm", Buffer.from(apiV3Key, "utf8"), Buffer.from(r.nonce, "utf8"));
  decipher.setAAD(Buffer.from(r.associated_data ?? "", "utf8"));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
}
