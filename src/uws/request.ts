import type { HttpRequest, HttpResponse } from "uWebSockets.js";

/** Copies the headers out of a uWS request (valid only until the handler returns). */
export function copyHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => (headers[k] = v));
  return headers;
}

/** The client's address: the socket's peer, or with `trustProxy` the last X-Forwarded-For entry (what our proxy saw). */
export function remoteAddressOf(res: HttpResponse, req: HttpRequest, trustProxy: boolean): string {
  // An address is ASCII: latin1 decodes it without UTF-8's checks.
  const peer = Buffer.from(res.getRemoteAddressAsText()).toString("latin1");
  return trustProxy ? clientAddress(peer, req.getHeader("x-forwarded-for"), true) : peer;
}

/** The same rule from a peer address and an X-Forwarded-For header already copied out of the request. */
export function clientAddress(peer: string, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = (forwardedFor ?? "").split(",").map((s) => s.trim()).filter(Boolean).at(-1);
    if (forwarded) return forwarded;
  }
  return peer;
}
