// Reads a vitest JSON report: prints "N passed, N failed" (the line CI reads) and names every test
// that passed only when retried (CI retries once: vitest.config.ts), with its first failure.
import { readFileSync } from "node:fs";

type Assertion = { fullName: string; status: string; failureMessages: string[] };
type Report = { numPassedTests: number; numFailedTests: number; testResults: { name: string; assertionResults: Assertion[] }[] };

const r = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Report;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
const flaky = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "passed" && a.failureMessages.length > 0).map((a) => ({ file: f.name, a })));
for (const { file, a } of flaky) console.log(`FLAKY (passed on retry): ${file.replace(`${process.cwd()}/`, "")} > ${a.fullName}\n  first try: ${a.failureMessages[0]!.split("\n")[0]}`);
if (flaky.length > 0) console.log(`${flaky.length} test(s) passed only on retry`);
