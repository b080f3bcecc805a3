/**
 * Provider verification: replays every committed pact in contracts/pacts/ against the real app on
 * its own real database (startApp, response validation on), with the provider states of states.ts.
 * In CI with a broker, the same Verifier takes pactBrokerUrl and consumer version selectors instead
 * of pactUrls and publishes the results (docs/contracts.md).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Verifier } from '@pact-foundation/pact';
import { handlers } from '../../src/handlers';
import { startApp, type TestApp } from '../../test/support/app';
import { PACT_DIR, PROVIDER } from '../consumers/pact';
import { providerStates } from './states';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

const pactFiles = readdirSync(PACT_DIR)
  .filter((f) => f.endsWith(`-${PROVIDER}.json`))
  .map((f) => join(PACT_DIR, f));

describe(`${PROVIDER} honours its consumers' pacts`, () => {
  it('has pacts to verify (one per consumer)', () => {
    expect(pactFiles.map((f) => f.slice(PACT_DIR.length + 1)).sort()).toEqual([
      'admin-console-ecommerce-backend.json',
      'storefront-ecommerce-backend.json',
    ]);
  });

  /**
   * The pacts to verify: the committed files, or, when PACT_BROKER_BASE_URL is set (CI with a
   * broker), the consumers' versions on their main branch and those deployed or released, with the
   * results published back (docs/contracts.md).
   */
  const source = (pacts: string[]) =>
    process.env.PACT_BROKER_BASE_URL
      ? {
          pactBrokerUrl: process.env.PACT_BROKER_BASE_URL,
          pactBrokerToken: process.env.PACT_BROKER_TOKEN,
          consumerVersionSelectors: [{ mainBranch: true }, { deployedOrReleased: true }],
          enablePending: true,
          publishVerificationResult: process.env.PACT_PUBLISH_VERIFICATION_RESULTS === 'true',
          providerVersionBranch: process.env.GIT_BRANCH,
        }
      : { pactUrls: pacts, publishVerificationResult: false };

  const verify = (target: TestApp, pacts = pactFiles) =>
    new Verifier({
      provider: PROVIDER,
      providerBaseUrl: target.baseUrl,
      ...source(pacts),
      stateHandlers: providerStates(target),
      providerVersion: process.env.GIT_COMMIT ?? 'local',
      logLevel: 'error',
    }).verifyProvider();

  it('verifies every interaction of every pact', async () => {
    await expect(verify(app)).resolves.toBeDefined();
  });

  it('fails when the provider breaks a pact (a profile that answers the wrong role)', async () => {
    const broken = await startApp({}, {
      ...handlers,
      getMe: async (ctx) => {
        const answer = await handlers.getMe(ctx);
        return { ...answer, body: { ...answer.body, role: 'vendor' as const } };
      },
    });
    const silence = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const storefront = pactFiles.filter((f) => f.includes('storefront'));
      await expect(
        new Verifier({ provider: PROVIDER, providerBaseUrl: broken.baseUrl, pactUrls: storefront, stateHandlers: providerStates(broken), logLevel: 'error' }).verifyProvider(),
      ).rejects.toThrow(/\$\.role/);
    } finally {
      silence.mockRestore();
      await broken.close();
    }
  });
});
