import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { declaredCodes } from '../../src/http/problem';
import { errorCoverage, isFilteredRun } from '../support/error-coverage';

/**
 * The error-code coverage check run after the whole suite (test/support/global-teardown.ts): what
 * counts as a whole-suite run (only then does a gap fail the run), and how the recorded problems are
 * compared with the codes the contract declares.
 */
describe('error-code coverage', () => {
  it('is checked only after a whole-suite run: any test path, name pattern, shard or change filter skips it', () => {
    expect(isFilteredRun({ testPathPatterns: { patterns: [] } })).toBe(false);
    expect(isFilteredRun({})).toBe(false);
    for (const selection of [
      { testPathPatterns: { patterns: ['test/unit/error-coverage.test.ts'] } },
      { testNamePattern: 'INVALID_CURSOR' },
      { shard: { shardIndex: 1, shardCount: 2 } },
      { onlyChanged: true },
      { onlyFailures: true },
      { findRelatedTests: true },
      { changedSince: 'main' },
      { lastCommit: true },
      { listTests: true },
    ]) {
      expect([selection, isFilteredRun(selection)]).toEqual([selection, true]);
    }
  });

  it('lists each declared (operation, status, code) no recorded problem matches; 500 is exempt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-coverage-unit-'));
    try {
      const none = errorCoverage(dir);
      const all = [...declaredCodes].flatMap(([op, statuses]) => [...statuses].filter(([s]) => s !== 500).flatMap(([s, codes]) => codes.map((c) => `${op} ${s} ${c}`)));
      expect(none).toEqual({ declared: all.length, observed: 0, missing: all });
      // One process's records: one declared code, one the operation does not declare, a 500, one with no operation.
      const [first] = all;
      const [op, status, code] = first!.split(' ');
      const records = [
        { operationId: op, method: 'GET', status: Number(status), code },
        { operationId: op, method: 'GET', status: 418, code: 'TEAPOT' },
        { operationId: op, method: 'GET', status: 500, code: 'INTERNAL_ERROR' },
        { operationId: null, method: 'GET', status: 404, code: 'NOT_FOUND' },
      ];
      writeFileSync(join(dir, 'problems-1.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      expect(errorCoverage(dir)).toEqual({ declared: all.length, observed: 1, missing: all.slice(1) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
