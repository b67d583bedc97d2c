import { performance } from "node:perf_hooks";

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** The comment content a sender posts: `t:<send stamp>:<n>`, well under the 200-char limit. */
export const tag = (n: number): string => `t:${wallMs().toFixed(3)}:${n}`;

/** The send stamp inside a tag; NaN for any other content. */
export function sentAt(content: unknown): number {
  if (typeof content !== "string" || !content.startsWith("t:")) return NaN;
  return Number(content.slice(2, content.indexOf(":", 2)));
}

/** The client command both the hub and the uws baseline accept. */
export const commentFrame = (content: string): string => JSON.stringify({ type: "comment", comment: { content } });
