import type { Client } from 'pg';
import { operationIndex, type OperationId } from '../../../generated/operations';
import { signWebhook } from '../../../src/modules/checkout';
import { declaredCodes } from '../../../src/http/problem';
import { TEST_WEBHOOK_SECRET, type TestApp } from '../../support/app';
import { session } from '../../support/database-probes';
import { actor, type Actor, uniqueName } from '../../support/factories';
import { type PrivatePostgres, startPrivatePostgres } from '../../support/private-postgres';
import { sampleRequest } from '../../support/sample-requests';
import { startServingApp } from '../../support/serving-app';

/**
 * Every operation that reaches the database declares 503 `DATABASE_BUSY` and 503
 * `SERVICE_UNAVAILABLE`; this proves it of each one, table-driven over the contract's operations:
 * a valid request per operation (test/support/sample-requests.ts: the contract's examples), sent
 * once while another session holds every table (the app's lock wait runs out: DATABASE_BUSY), and
 * once while the PostgreSQL server is stopped (SERVICE_UNAVAILABLE). Signed-in operations meet the
 * database first when their bearer token is checked against the account, anonymous ones in their
 * handler. A PostgreSQL of this test's own (test/support/private-postgres.ts), so stopping it
 * touches no other test. Readiness is proven by database-restart.test.ts and database-locks.test.ts
 * (it reads no table: a held lock does not stop it).
 */

type Meta = (typeof operationIndex)[OperationId];
const operations = Object.entries(operationIndex) as [OperationId, Meta][];
const declaring = (code: string) => operations.filter(([id]) => id !== 'getReadiness' && (declaredCodes.get(id)?.get(503)?.includes(code) ?? false)).map(([id]) => id);

let pg: PrivatePostgres;
let url: string;
let app: TestApp;
let admin: Actor;
let customer: Actor;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  url = await pg.createDatabase('shop');
  // Short lock waits: a request stuck behind the held tables gives up quickly (55P03, DATABASE_BUSY).
  app = await startServingApp(url, { DATABASE_LOCK_TIMEOUT_MS: '100', DATABASE_CHECKOUT_LOCK_TIMEOUT_MS: '100', DATABASE_ACQUIRE_TIMEOUT_MS: '5000' });
  admin = await actor(app, 'admin');
  customer = await actor(app, 'customer');
}, 120_000);

afterAll(async () => {
  await app?.close();
  await pg?.close();
});

/** Sends the operation's sample request, made real where it must be, and returns `id status code Retry-After`. */
async function call(id: OperationId): Promise<string> {
  const sample = sampleRequest(id);
  const headers: Record<string, string> = { ...sample.headers };
  let body = sample.body;
  // A signed-in request, as an admin (who may call every operation); an optional token is sent too.
  if (operationIndex[id].auth !== 'none') headers.authorization = `Bearer ${admin.tokens.access}`;
  // A guest's checkout takes a cart token alone (checking it reads the database).
  if (id === 'placeGuestOrder') headers['x-cart-token'] = 'A'.repeat(43);
  if (id === 'register') {
    const username = uniqueName('fault');
    body = { username, email: `${username}@example.com`, password: 'a-good-password-123' };
  }
  if (id === 'login') body = { username: customer.user.username, password: customer.password };
  if (id === 'refreshToken' || id === 'logout') body = { refresh: customer.tokens.refresh };
  const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (id === 'paymentWebhook') headers['x-sandbox-signature'] = signWebhook(TEST_WEBHOOK_SECRET, raw ?? '');
  const res = await fetch(`${app.baseUrl}${sample.path}`, { method: sample.method, headers, body: raw });
  const text = await res.text();
  const code = res.headers.get('content-type')?.startsWith('application/problem+json') ? (JSON.parse(text) as { code: string }).code : text.slice(0, 80);
  return `${id} ${res.status} ${code} ${res.headers.get('retry-after')}`;
}

describe('every operation that reaches the database, while the database cannot serve it', () => {
  it('503 DATABASE_BUSY with Retry-After: 2, while another session holds every table', async () => {
    const targets = declaring('DATABASE_BUSY');
    expect(targets.length).toBeGreaterThan(50);
    const holder: Client = await session(url);
    const answers: string[] = [];
    try {
      const { rows } = await holder.query<{ name: string }>(`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname = 'public' order by 1`);
      await holder.query('begin');
      await holder.query(`lock table ${rows.map((r) => r.name).join(', ')} in access exclusive mode`);
      for (const id of targets) answers.push(await call(id));
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
    expect(answers).toEqual(targets.map((id) => `${id} 503 DATABASE_BUSY 2`));
  }, 120_000);

  it('503 SERVICE_UNAVAILABLE with Retry-After: 5, while the PostgreSQL server is stopped', async () => {
    const targets = declaring('SERVICE_UNAVAILABLE');
    expect(targets.length).toBeGreaterThan(50);
    await pg.stop('fast');
    const answers: string[] = [];
    try {
      for (const id of targets) answers.push(await call(id));
    } finally {
      await pg.start();
    }
    expect(answers).toEqual(targets.map((id) => `${id} 503 SERVICE_UNAVAILABLE 5`));
  }, 120_000);
});
