/**
 * `npm run test:pgbouncer`: a representative part of the integration suite (catalog, cart and the
 * shopper's lists, checkout, jobs) with every app under test connecting through a real PgBouncer
 * in transaction mode (Debian's `pgbouncer`), started by the global setup for the whole run, and
 * test/integration/system/pgbouncer.test.ts. Test databases are created, and direct assertions
 * run, on the server itself. CI runs it after `npm test` (.ci/run).
 */
const base = require('./jest.config.js');

// test/support/global-setup.ts starts the pooler; test/support/pgbouncer.ts routes the apps through it.
process.env.TEST_PGBOUNCER = '1';
// The error-code coverage check judges the whole suite (`npm test`), not this part of it.
process.env.ERROR_CODE_COVERAGE = 'skip';

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/integration/catalog/**/*.test.ts',
    '<rootDir>/test/integration/shopper/**/*.test.ts',
    '<rootDir>/test/integration/checkout/**/*.test.ts',
    '<rootDir>/test/integration/jobs/**/*.test.ts',
    '<rootDir>/test/integration/system/pgbouncer.test.ts',
  ],
  testPathIgnorePatterns: [
    ...base.testPathIgnorePatterns.filter((p) => !p.endsWith('pgbouncer.test.ts')),
    // About the direct server's sessions: named prepared statements and each pool's startup
    // settings, read back from one connection (behind the pooler they are the server's, by design).
    '<rootDir>/test/integration/catalog/prepared.test.ts',
    '<rootDir>/test/integration/catalog/read-pool.test.ts',
    // The planner and the bulk loader on the server itself: no app, nothing pooled.
    '<rootDir>/test/integration/catalog/plans.test.ts',
    '<rootDir>/test/integration/catalog/seed.test.ts',
  ],
};
