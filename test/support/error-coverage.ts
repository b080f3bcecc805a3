import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaredCodes } from '../../src/http/problem';

/**
 * Error-code coverage, the second direction of "the contract lists exactly the codes the server
 * sends" (the first is the problem handler's strict check under test: a code an operation does not
 * list for that status becomes a 500 UNDECLARED_RESPONSE, failing the test that met it).
 *
 * Every problem the app sends under test is recorded (operation, status, code) in PROBLEM_LOG_DIR
 * (src/http/problem.ts); after the suite, every code each operation declares for each error status
 * must have been seen at least once. 500 is exempt: its codes are the server's own failures, proved
 * by test/unit/problem.test.ts and test/integration/system/contract.test.ts, not per operation.
 */
export interface Coverage {
  declared: number;
  observed: number;
  /** `operationId status CODE`, each declared and never sent by any test. */
  missing: string[];
}

export function errorCoverage(dir: string): Coverage {
  const seen = new Set<string>();
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        if (!line) continue;
        const { operationId, status, code } = JSON.parse(line) as { operationId: string | null; status: number; code: string };
        if (operationId) seen.add(`${operationId} ${status} ${code}`);
      }
    }
  }
  const missing: string[] = [];
  let declared = 0;
  for (const [operationId, statuses] of declaredCodes) {
    for (const [status, codes] of statuses) {
      if (status === 500) continue;
      for (const code of codes) {
        declared += 1;
        if (!seen.has(`${operationId} ${status} ${code}`)) missing.push(`${operationId} ${status} ${code}`);
      }
    }
  }
  return { declared, observed: declared - missing.length, missing };
}

/** Jest's global config, as far as telling a whole-suite run from a filtered one goes. */
export interface RunSelection {
  testPathPatterns?: { patterns?: string[] };
  testNamePattern?: string;
  shard?: unknown;
  onlyChanged?: boolean;
  onlyFailures?: boolean;
  findRelatedTests?: boolean;
  changedSince?: string;
  lastCommit?: boolean;
  listTests?: boolean;
}

/** Some tests were left out (a path, a name pattern, a shard, only changed or failed tests): coverage means nothing then. */
export function isFilteredRun(c: RunSelection): boolean {
  return (
    (c.testPathPatterns?.patterns?.length ?? 0) > 0 ||
    !!c.testNamePattern ||
    !!c.shard ||
    !!c.onlyChanged ||
    !!c.onlyFailures ||
    !!c.findRelatedTests ||
    !!c.changedSince ||
    !!c.lastCommit ||
    !!c.listTests
  );
}
