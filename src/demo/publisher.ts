import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import type { Logger } from "../log.js";

export interface PublisherOptions {
  /** The server's own base URL. */
  baseUrl: string;
  streamId: string;
  /** A staff sign-in that may run the stream (the demo host's). */
  login: { username: string; password: string };
  log: Logger;
  ffmpeg?: string;
}

const RESTART_MS = 3000;

/** Whether an ffmpeg binary answers. */
export function hasFfmpeg(ffmpeg = "ffmpeg") {
  return spawnSync(ffmpeg, ["-version"], { stdio: "ignore" }).status === 0;
}

/**
 * DEMO_PUBLISH: an encoder for the demo room. Signs in as the host through the API, rotates the
 * stream's key (a fresh one each start, never logged) and publishes ffmpeg's test pattern with a
 * tone to the stream's RTMP URL, restarting ffmpeg if it stops, so the console's preview plays.
 */
export async function startDemoPublisher(opts: PublisherOptions) {
  const log = opts.log.child({ part: "demo-publisher" });
  const ffmpeg = opts.ffmpeg ?? "ffmpeg";
  if (!hasFfmpeg(ffmpeg)) {
    log.warn("ffmpeg is not installed: the demo stream is not published (install ffmpeg, or run scripts/ensure-services.sh)");
    return null;
  }
  const post = async <T>(path: string, body: unknown, token?: string) => {
    const res = await fetch(`${opts.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  let target: string;
  try {
    const { token } = await post<{ token: string }>("/v1/auth/staff-login", opts.login);
    const key = await post<{ streamKey: string; rtmpUrl: string | null }>(`/v1/streams/${encodeURIComponent(opts.streamId)}/key`, {}, token);
    await post("/v1/auth/logout", {}, token).catch(() => {});
    if (!key.rtmpUrl) {
      log.warn("RTMP ingest is off on this node (INGEST_ENABLED): the demo stream is not published");
      return null;
    }
    target = `${key.rtmpUrl}?key=${key.streamKey}`;
  } catch (err) {
    log.warn({ err: (err as Error).message }, "cannot get the demo stream's key: not published");
    return null;
  }

  let child: ChildProcess | null = null;
  let stopped = false;
  let restart: NodeJS.Timeout | null = null;
  const run = () => {
    const c = spawn(
      ffmpeg,
      [
        ...["-hide_banner", "-loglevel", "error", "-nostdin", "-re"],
        ...["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=20", "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4"],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "40", "-b:v", "600k"],
        ...["-c:a", "aac", "-b:a", "64k", "-f", "flv", target],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child = c;
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    c.once("exit", (code, signal) => {
      if (child === c) child = null;
      if (stopped) return;
      log.warn({ code, signal, stderr: stderr.trim() }, "demo ffmpeg stopped; restarting");
      restart = setTimeout(run, RESTART_MS);
    });
  };
  run();
  log.info({ streamId: opts.streamId }, "publishing a test pattern to the demo stream");

  return {
    async stop() {
      stopped = true;
      if (restart) clearTimeout(restart);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      const kill = setTimeout(() => c.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(kill);
    },
  };
}

export type DemoPublisher = NonNullable<Awaited<ReturnType<typeof startDemoPublisher>>>;
