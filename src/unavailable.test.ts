import { describe, expect, it } from "vitest";
import { asAppError, isOutage } from "./unavailable.js";

describe("outages", () => {
  it("takes a Redis Cluster's failover replies for an outage (503), not a bug", () => {
    for (const message of [
      "MOVED 5726 127.0.0.1:7102",
      "ASK 5726 127.0.0.1:7102",
      "CLUSTERDOWN Hash slot not served",
      "TRYAGAIN Multiple keys request during rehashing of slot",
      "READONLY You can't write against a read only replica.",
      "LOADING Redis is loading the dataset in memory",
      "Too many Cluster redirections. Last error: Error: Connection is closed.",
      "Cluster isn't ready and enableOfflineQueue options is false",
    ]) {
      expect(isOutage(new Error(message)), message).toBe(true);
      expect(asAppError(new Error(message))?.code).toBe("UNAVAILABLE");
    }
    expect(isOutage(new Error("ERR wrong number of arguments"))).toBe(false);
    expect(isOutage(new Error("a message that mentions MOVED later"))).toBe(false);
  });
});
