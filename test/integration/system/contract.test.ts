import { operationIndex } from '../../../generated/operations';
import { handlers } from '../../../src/handlers';
import { DomainError } from '../../../src/shared/errors';
import { startApp, type TestApp } from '../../support/app';

/**
 * The safety nets that keep answers on contract under test: a body that breaks its schema, or an
 * error status the operation does not declare, becomes a loud 500 instead of reaching a client.
 */
describe('contract enforcement', () => {
  let app: TestApp;
  afterEach(() => app?.close());

  it('turns a response body that breaks its schema into 500 RESPONSE_CONTRACT_VIOLATION', async () => {
    app = await startApp({}, { ...handlers, getHealth: async () => ({ status: 200, body: { status: 'broken' as 'ok' } }) });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('RESPONSE_CONTRACT_VIOLATION');
  });

  it('turns an error status the operation does not declare into 500 UNDECLARED_RESPONSE', async () => {
    app = await startApp({}, {
      ...handlers,
      getHealth: async () => {
        throw new DomainError('conflict', 'SURPRISE', 'Not in the contract.');
      },
    });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('UNDECLARED_RESPONSE');
  });

  it('routes every operation of the contract, and nothing else under /api/', async () => {
    app = await startApp();
    for (const op of Object.values(operationIndex)) {
      const path = op.path.replace(/\{[^}]+\}/g, '1');
      const res = await fetch(`${app.baseUrl}${path}`, {
        method: op.method.toUpperCase(),
        headers: { 'content-type': 'application/json' },
        body: op.method === 'get' || op.method === 'delete' ? undefined : '{}',
      });
      // Whatever the answer (400, 401...), it is not "no such route".
      expect([404, 405].includes(res.status) && ((await res.json()) as { detail: string }).detail === 'No such resource or route.').toBe(false);
    }
  });
});

describe('response validation', () => {
  let app: TestApp;
  afterAll(() => app.close());

  it('refuses a body with a field the schema does not have (the type checker cannot see spread extras)', async () => {
    app = await startApp({}, {
      ...handlers,
      getHealth: async () => {
        const extra = { status: 'ok' as const, debug: 'internal detail' };
        return { status: 200, body: extra };
      },
    });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { code: string };
    expect(body.code).toBe('RESPONSE_CONTRACT_VIOLATION');
    expect(JSON.stringify(body)).not.toContain('internal detail');
  });
});
