import { loadConfig } from "./config.js";
import { createLogger } from "./log.js";
import { startServer } from "./server.js";

const config = loadConfig();
const log = createLogger(config.logLevel, config.nodeId);

try {
  const server = await startServer(config, log);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000).unref();
    await server.stop();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
} catch (err) {
  log.fatal({ err: err instanceof Error ? err.message : err }, "cannot start");
  log.flush(() => process.exit(1));
}
