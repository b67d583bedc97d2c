// ffmpeg publishing a test pattern over RTMP, as a host's encoder would. Every one started is killed
// when the test process exits.
import { spawn, type ChildProcess } from "node:child_process";

const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((c) => c.kill("SIGKILL")));

export type Publisher = ReturnType<typeof publishTestPattern>;

/** Publishes to `url` (…/live/<id>?key=<key>) for up to `seconds`; `exited` resolves with its exit code. */
export function publishTestPattern(url: string, seconds = 60) {
  const child = spawn(
    "/usr/bin/ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-nostdin", "-re"],
      ...["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi", "-i", "sine=frequency=440"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15", "-c:a", "aac", "-t", String(seconds), "-f", "flv", url],
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, exited, stderr: () => stderr, stop: () => child.kill("SIGKILL") };
}

/** Resolves with the RTMP error ffmpeg printed when the server refused it (it exits non-zero). */
export async function refusalOf(p: Publisher) {
  const code = await p.exited;
  const m = /Server error: ([^\n]*)/.exec(p.stderr());
  return { exitCode: code, reason: m ? m[1]!.trim() : null };
}
