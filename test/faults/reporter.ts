// Prints one line per fault case after the run, in case order:
//   ✓ 07 PostgreSQL down | injected: … | checked: …
import type { Reporter, TestCase, TestModule } from "vitest/node";

export default class FaultReporter implements Reporter {
  private readonly cases: { number: number; line: string }[] = [];

  onTestCaseResult(testCase: TestCase) {
    const fault = testCase.meta().fault;
    const state = testCase.result().state;
    const mark = state === "passed" ? "✓" : state === "failed" ? "✗" : "-";
    const retried = (testCase.diagnostic()?.retryCount ?? 0) > 0 ? " FLAKY (passed on its retry)" : "";
    const injected = fault?.injected.join("; ") || "(nothing recorded)";
    const checked = fault?.checked.join("; ") || "(nothing recorded)";
    this.cases.push({ number: fault?.number ?? 99, line: `${mark}${state === "passed" ? retried : ""} ${testCase.name} | injected: ${injected} | checked: ${checked}` });
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>) {
    this.cases.sort((a, b) => a.number - b.number);
    process.stdout.write(`\nfault suite: ${this.cases.length} cases\n${this.cases.map((c) => c.line).join("\n")}\n`);
  }
}
