import type { TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { until } from '../../support/database-probes';
import { actor, login, registerCustomer, uniqueName } from '../../support/factories';
import { type PrivatePostgres, startPrivatePostgres } from '../../support/private-postgres';
import { startServingApp } from '../../support/serving-app';

/**
 * Restarting PostgreSQL under load (issue 12): a PostgreSQL of this test's own, the real app with
 * its serving pools, and a few hundred mixed requests from concurrent clients while the server is
 * stopped and started again (fast: sessions are told and ended), then restarted immediately (no
 * shutdown checkpoint: crash recovery). No request may get a 500: a failure is a 503 problem
 * document with Retry-After and a documented code. Readiness answers 503 while the database is
 * down and 200 once it is back, and every request made after that succeeds: the app recovered by
 * itself. Phases are moved on by what happened (how many answers, what readiness says), never by
 * the clock.
 */

type Phase = 'warm' | 'stopping' | 'down' | 'starting' | 'back' | 'crashing' | 'back again';

interface Outcome {
  op: string;
  /** The phase the request was sent in, and the one its answer came in. */
  phase: Phase;
  answeredIn: Phase;
  status: number;
  code?: string;
  retryAfter: string | null;
  contentType: string | null;
}

let pg: PrivatePostgres;
let app: TestApp;
let category: number;
let products: number[];
let customer: { username: string; password: string };
let token: string;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const url = await pg.createDatabase('shop');
  app = await startServingApp(url, { DATABASE_POOL_MAX: '4', DATABASE_READ_POOL_MAX: '4' });
  const admin = await actor(app, 'admin');
  const vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
  products = [];
  for (let i = 0; i < 5; i++) products.push((await makeProduct(vendor, category, { stock: 100 })).id);
  const { user, password } = await registerCustomer(app);
  customer = { username: user.username, password };
  token = (await login(app, user.username, password)).access;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await pg?.close();
});

describe('a PostgreSQL restart under load', () => {
  it('answers no request with a 500; every failure is a documented 503 with Retry-After; readiness follows the database; the app recovers by itself', async () => {
    const base = app.baseUrl;
    const json = { 'content-type': 'application/json' };
    let sent = 0;
    // Reads of the catalog and writes of accounts, anonymous and signed in (a bearer token is
    // checked against the account, so a signed-in request needs the database before its handler).
    // (Not the facets: they are cached in the process for a few seconds, and answer without it.)
    const ops: [string, () => Promise<Response>][] = [
      ['list', () => fetch(`${base}/api/product/?category=${category}&page_size=10`)],
      ['detail', () => fetch(`${base}/api/product/${products[sent % products.length]}/`)],
      ['tree', () => fetch(`${base}/api/category/tree/`)],
      ['register', () => fetch(`${base}/api/auth/register/`, { method: 'POST', headers: json, body: JSON.stringify(newAccount()) })],
      ['reviews', () => fetch(`${base}/api/review/?product=${products[sent % products.length]}`)],
      ['login', () => fetch(`${base}/api/auth/jwt/login/`, { method: 'POST', headers: json, body: JSON.stringify(customer) })],
      ['cart (signed in)', () => fetch(`${base}/api/cart/`, { headers: { authorization: `Bearer ${token}` } })],
      ['list (signed in)', () => fetch(`${base}/api/product/?page_size=5`, { headers: { authorization: `Bearer ${token}` } })],
    ];
    const newAccount = () => {
      const username = uniqueName('load');
      return { username, email: `${username}@example.com`, password: 'a-good-password-123' };
    };

    let phase: Phase = 'warm';
    let stop = false;
    const outcomes: Outcome[] = [];
    /** Requests sent and answered within phase `p`. */
    const within = (p: Phase) => outcomes.filter((o) => o.phase === p && o.answeredIn === p);
    const client = async (first: number) => {
      for (let i = first; !stop; i++) {
        const [op, send] = ops[i % ops.length]!;
        const sentIn = phase;
        sent++;
        const res = await send();
        const body = await res.text();
        const code = res.status >= 400 ? ((JSON.parse(body) as { code?: string }).code ?? '(none)') : undefined;
        outcomes.push({ op, phase: sentIn, answeredIn: phase, status: res.status, code, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') });
      }
    };
    const readiness = async () => {
      const res = await fetch(`${base}/readyz`);
      const body = (await res.json()) as { code?: string };
      return { status: res.status, code: body.code, retryAfter: res.headers.get('retry-after') };
    };
    const clients = Array.from({ length: 8 }, (_, i) => client(i));

    try {
      await until('the load to warm up', () => outcomes.length, (n) => n >= 60, 60_000);
      expect(await readiness()).toEqual({ status: 200, code: undefined, retryAfter: null });

      // A fast shutdown: every session is told (57P01) and ended, in-flight requests included.
      phase = 'stopping';
      await pg.stop('fast');
      phase = 'down';
      expect(await readiness()).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
      await until('requests while the database is down', () => within('down').length, (n) => n >= 40, 60_000);
      expect(await readiness()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });

      phase = 'starting';
      await pg.start();
      await until('readiness to come back', readiness, (r) => r.status === 200, 60_000);
      phase = 'back';
      await until('requests after the database came back', () => within('back').length, (n) => n >= 60, 60_000);

      // An immediate shutdown (sessions killed, crash recovery at start), restarted at once.
      phase = 'crashing';
      await pg.restart('immediate');
      await until('readiness to come back after the crash', readiness, (r) => r.status === 200, 60_000);
      phase = 'back again';
      await until('requests after the second restart', () => within('back again').length, (n) => n >= 60, 60_000);
    } finally {
      stop = true;
      await Promise.all(clients);
    }

    expect(outcomes.length).toBeGreaterThanOrEqual(220);
    // No 500, nor anything else than success or a documented 503.
    expect(outcomes.filter((o) => ![200, 201, 503].includes(o.status))).toEqual([]);
    const unavailable = outcomes.filter((o) => o.status === 503);
    for (const o of unavailable) {
      expect(o).toMatchObject({ contentType: expect.stringMatching(/^application\/problem\+json/), retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
      expect(['SERVICE_UNAVAILABLE', 'DATABASE_BUSY']).toContain(o.code);
    }
    // While the server was down, every request (reads and writes alike) was a 503 SERVICE_UNAVAILABLE.
    const down = within('down');
    expect(down.length).toBeGreaterThanOrEqual(40);
    expect(down.filter((o) => o.status !== 503 || o.code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(new Set(down.map((o) => o.op))).toEqual(new Set(ops.map(([op]) => op)));
    // Once readiness said so, everything worked again, with nobody restarting the app.
    const recovered = [...within('back'), ...within('back again')];
    expect(recovered.filter((o) => o.status >= 300)).toEqual([]);
    expect(new Set(recovered.map((o) => o.op))).toEqual(new Set(ops.map(([op]) => op)));
  }, 300_000);
});
