/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Browser tests need Chromium: `npm run test:browser` (jest.browser.config.js); the PgBouncer
  // test needs pgbouncer: `npm run test:pgbouncer` (jest.pgbouncer.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', '<rootDir>/test/integration/system/pgbouncer.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Each file gets its own database, so files run in parallel.
  maxWorkers: process.env.JEST_WORKERS ?? '100%',
};
