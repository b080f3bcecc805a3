import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';
import { errorCoverage, isFilteredRun, type RunSelection } from './error-coverage';
import { cleanUp } from './run-cleanup';

/**
 * The error-code coverage check (test/support/error-coverage.ts). It means something only after the
 * whole suite, so it runs when no test path, name pattern, shard or change filter was given, and
 * then it is strict: a declared code no test raised fails the run (locally and in CI alike), naming
 * each gap and the two ways to close it. The list is also written to error-coverage.txt in
 * PROBLEM_LOG_DIR. A filtered run (one file, `-t`...) never fails for coverage.
 */
function checkErrorCoverage(globalConfig: RunSelection): void {
  const dir = process.env.PROBLEM_LOG_DIR;
  if (!dir) return;
  // A filtered run, or another suite than `npm test`'s (jest.browser.config.js sets the skip).
  if (isFilteredRun(globalConfig) || process.env.ERROR_CODE_COVERAGE === 'skip') return rmSync(dir, { recursive: true, force: true });
  const { declared, observed, missing } = errorCoverage(dir);
  const report = join(dir, 'error-coverage.txt');
  writeFileSync(report, missing.join('\n') + '\n');
  if (missing.length) {
    throw new Error(
      [
        `Error-code coverage: ${missing.length} of ${declared} declared (operation, status, code) were never sent by any test:`,
        ...missing.map((m) => `  ${m}`),
        'For each: add a test that raises that code on that operation through HTTP (in the test file of its context, or',
        'table-driven where a code applies to many operations: test/integration/system/error-codes.test.ts,',
        'database-faults-everywhere.test.ts), or, if the operation truly cannot send it, remove the code from its',
        "response's problem schema in openapi/ and run `npm run generate`. (Written to " + report + ')',
      ].join('\n'),
    );
  }
  console.log(`error codes: all ${observed} of ${declared} declared (operation, status, code) were sent by some test`);
}

export default async function globalTeardown(globalConfig: Config): Promise<void> {
  try {
    checkErrorCoverage(globalConfig as RunSelection);
  } finally {
    await cleanUp();
  }
}
