import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, ERRORS } from "./errors.js";
import { CLIENT_COMMAND_TYPES, ServerMessage } from "./messages.js";

const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
const rows = doc.split("\n").filter((l) => l.startsWith("|"));
const rowOf = (name: string, within = rows) => within.find((r) => r.startsWith(`| \`${name}\` |`));
/** The rows of one section (an error code and a close code may share a name). */
const sectionRows = (heading: string) => doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`))!.split("\n").filter((l) => l.startsWith("|"));

describe("docs/protocol.md", () => {
  it.each(Object.entries(ERRORS))("documents error %s with its HTTP status", (code, e) => {
    const row = rowOf(code, sectionRows("Error codes"));
    expect(row, `no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${e.http} |`);
    expect(row).toContain(e.retryable ? "| yes |" : "| no |");
  });

  it.each(Object.entries(CLOSE_CODES))("documents close code %s", (name, c) => {
    const row = rowOf(name, sectionRows("Close codes"));
    expect(row, `no row for ${name}`).toBeDefined();
    expect(row).toContain(`| ${c.code} |`);
    expect(row).toContain(c.retry ? "| yes |" : "| no |");
  });

  it("documents every client command and server message type", () => {
    const serverTypes = ServerMessage.options.map((o) => o.shape.type.value);
    for (const type of [...CLIENT_COMMAND_TYPES, ...serverTypes]) expect(rowOf(type), type).toBeDefined();
  });

  it("keeps retryable close codes in 4000-4499 and final ones in 4500-4999", () => {
    for (const c of Object.values(CLOSE_CODES)) {
      if (c.code < 4000) continue;
      expect(c.retry).toBe(c.code < 4500);
    }
  });
});
