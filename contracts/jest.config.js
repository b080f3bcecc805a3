/**
 * Pact contract tests (`npm run test:contracts`): the consumers first (they write contracts/pacts/),
 * then the provider verification against the real app on a real database.
 */
const base = require('../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/contracts'],
  testMatch: ['**/*.pact.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
