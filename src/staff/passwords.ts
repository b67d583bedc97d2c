import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** scrypt cost for new hashes (OWASP's minimum is N=2^17 with r=8 for interactive logins at p=1; 2^15 keeps a 2-core node responsive). */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LEN = 32;
const SALT_LEN = 16;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFKC"), salt, KEY_LEN, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`: a fresh salt per password, the parameters kept with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, PARAMS);
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

// Checked against when the user is unknown, so a wrong username costs as much time as a wrong password.
const decoy = hashPassword(randomBytes(16).toString("hex"));

/** Constant-time check of `password` against a stored hash; null (no such user) still spends the time. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? (await decoy)).split("$");
  const [kind, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || kind !== "scrypt" || !salt || !hash) return false;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((v) => Number.isSafeInteger(v) && v > 0)) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), params);
  return stored !== null && expected.length === actual.length && timingSafeEqual(expected, actual);
}

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** A random password of 20 characters from 57 (about 116 bits), without look-alikes (0/O, 1/l/I). */
export function generatePassword(length = 20): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // 57 * 4 = 228: bytes at or above it would bias the draw.
      if (b < 228 && out.length < length) out.push(ALPHABET[b % 57]!);
    }
  }
  return out.join("");
}

/** What the console and the admin command accept as a new password. */
export const PASSWORD_RULES = { min: 10, max: 200 } as const;
