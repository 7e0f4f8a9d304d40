// Prints vitest's JSON report as counts per project and one closing line that CI reads:
// "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const [reportPath, seconds] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch {
  console.error(`no test report at ${reportPath}: the test run did not finish`);
  console.error('tests: 0 passed, 1 failed');
  process.exit(0);
}
const byProject = new Map();
for (const file of report.testResults) {
  const project = file.name.match(/\/test\/([^/]+)\//)?.[1] ?? 'other';
  const counts = byProject.get(project) ?? { passed: 0, failed: 0, skipped: 0 };
  for (const test of file.assertionResults) {
    if (test.status === 'passed') counts.passed += 1;
    else if (test.status === 'failed') counts.failed += 1;
    else counts.skipped += 1;
  }
  byProject.set(project, counts);
}
for (const [project, c] of byProject) {
  console.error(`  ${project.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
}
const failedFiles = report.testResults.filter(
  (f) => f.status === 'failed' && f.assertionResults.length === 0,
);
const failed = report.numFailedTests + failedFiles.length;
console.error(`  wall time    ${seconds}s`);
process.stdout.write(
  `tests: ${report.numPassedTests} passed, ${failed} failed, ${report.numPendingTests + report.numTodoTests} skipped\n`,
);
