import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** All Prometheus metrics of one node, on a registry of its own (tests can run several nodes). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    connections: new Gauge({
      name: "pinlive_connections",
      help: "Open live-room connections on this node.",
      labelNames: ["transport"] as const,
      registers: [registry],
    }),
    rooms: new Gauge({ name: "pinlive_rooms", help: "Rooms with local viewers on this node.", registers: [registry] }),
    messagesIn: new Counter({
      name: "pinlive_messages_in_total",
      help: "Client frames received, by command type (invalid frames as 'invalid').",
      labelNames: ["type"] as const,
      registers: [registry],
    }),
    messagesOut: new Counter({
      name: "pinlive_messages_out_total",
      help: "Frames delivered to local sockets (a published frame counts once per subscriber).",
      registers: [registry],
    }),
    dropped: new Counter({
      name: "pinlive_dropped_total",
      help: "Messages not delivered, by reason (sampled, rate_limited, slow_mode, muted, filtered, slow_consumer).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    slowConsumerClosed: new Counter({
      name: "pinlive_slow_consumer_closed_total",
      help: "Sockets closed because their send buffer reached the hard limit.",
      registers: [registry],
    }),
    lagging: new Gauge({
      name: "pinlive_ws_lagging",
      help: "Sockets past the soft send-buffer limit, getting critical events only.",
      registers: [registry],
    }),
    sendBufferPeak: new Gauge({
      name: "pinlive_ws_send_buffer_peak_bytes",
      help: "Largest send buffer one socket has held since start (uWS cuts a socket at twice WS_MAX_BACKPRESSURE_BYTES).",
      registers: [registry],
    }),
    redisLatency: new Histogram({
      name: "pinlive_redis_latency_seconds",
      help: "Latency of the hub's Redis commands, by operation.",
      labelNames: ["op"] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    jobLateness: new Histogram({
      name: "pinlive_job_lateness_seconds",
      help: "How long after its due time a job started (first attempt), by kind.",
      labelNames: ["kind"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "pinlive_job_duration_seconds",
      help: "How long a job ran, by kind.",
      labelNames: ["kind"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobsRun: new Counter({
      name: "pinlive_jobs_run_total",
      help: "Job runs by kind and outcome (done, retry, gave_up: out of retries, left to the reconciler).",
      labelNames: ["kind", "outcome"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
