/**
 * `npm run test:browser`: the documentation pages in a real headless Chromium (Debian's
 * /usr/bin/chromium, or CHROMIUM_PATH; never a downloaded browser). Kept out of `npm test` so
 * the suite passes on a machine without Chromium; CI installs it and runs this too.
 */
const base = require('./jest.config.js');

// The error-code coverage check (test/support/global-teardown.ts) judges the integration suite
// (`npm test`); these page tests send no problem documents, so it does not apply to them.
process.env.ERROR_CODE_COVERAGE = 'skip';

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/browser/**/*.test.ts'],
  testPathIgnorePatterns: [],
  maxWorkers: 1,
};
