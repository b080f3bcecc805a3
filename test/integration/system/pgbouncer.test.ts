import { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from 'pg';
import pino from 'pino';
import { ormOptions } from '../../../src/orm.config';
import type { DatabaseLimits } from '../../../src/db/timeouts';
import { startApp, type TestApp } from '../../support/app';
import { type MadeProduct, makeCategory, makeProduct } from '../../support/catalog';
import { adminUrl, createTestDatabase } from '../../support/database';
import { session } from '../../support/database-probes';
import { actor, type Actor, registerCustomer, login } from '../../support/factories';
import { firstOf } from '../../support/narrow';
import { consoleQuery, pooledUrl, startPgBouncer, type PgBouncer } from '../../support/pgbouncer';
import { serversFor } from '../../support/processes';
import { startServingApp } from '../../support/serving-app';

/**
 * The app behind a real PgBouncer (Debian's; 1.18 on bookworm) in transaction mode (docs/scaling.md, "Pooling with
 * PgBouncer"), with a server pool of 5 connections per database: two server processes and the
 * test's own app, each with pools of 10 + 10, share those 5. Every connection of the app goes
 * through the pooler (PostgreSQL never sees more than 5 sessions of the database, PgBouncer lists
 * many clients), the API answers a burst of concurrent reads and writes, the bounded waits come
 * from the pooler's sessions (its connect_query), and a pooler without them is reported at start
 * (with DATABASE_POOLER=none too, when the pooler drops the timeouts the app sent).
 * Run by `npm run test:pgbouncer` only (it needs pgbouncer), which also routes every other app under
 * test through a PgBouncer of the run's: the first test checks that routing.
 */

// Two server processes start here, each compiling the app with tsx: slow on a busy machine.
jest.setTimeout(180_000);

const POOL = 5;
// This file's pooler gives its sessions the default lock timeout and a statement timeout of 10
// minutes, which the apps here are configured with: a lock wait that ends within the test's time
// was ended by lock_timeout, never by statement_timeout (both are 503 DATABASE_BUSY).
const LOCK_MS = 3000;
const STATEMENT_MS = 600_000;
const POOLED = { DATABASE_POOLER: 'pgbouncer', DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS) };
// The burst queues for the 5 server connections: on a machine busy with other tests that can take
// longer than the default 5 s wait for a pooled connection, which is not what this test is about.
const PATIENT = { ...POOLED, DATABASE_ACQUIRE_TIMEOUT_MS: '60000' };

let pgbouncer: PgBouncer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dbName: string;
let app: TestApp;
let watcher: Client;
let vendor: Actor;
let category: number;
let product: MadeProduct;

beforeAll(async () => {
  pgbouncer = await startPgBouncer(adminUrl(), { poolSize: POOL, connectQuery: `SET lock_timeout = ${LOCK_MS}; SET statement_timeout = ${STATEMENT_MS}` });
  db = await createTestDatabase();
  dbName = new URL(db.url).pathname.slice(1);
  app = await startServingApp(pgbouncer.through(db.url), POOLED);
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
  product = await makeProduct(vendor, category, { price: '9.90', stock: 10_000 });
  for (let i = 0; i < 4; i++) await makeProduct(vendor, category, { stock: 5 });
  // Direct, not through the pooler: what PostgreSQL itself sees.
  watcher = await session(db.url);
}, 120_000);

afterAll(async () => {
  await watcher?.end();
  await app?.close();
  await db?.drop();
  await pgbouncer?.close();
});

const start = serversFor(() => app);

/** The database's sessions on the server (the watcher's own left out). */
async function serverSessions(): Promise<number> {
  const { rows } = await watcher.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
  return firstOf(rows).n;
}

interface PoolRow {
  database: string;
  cl_active: number;
  cl_waiting: number;
  sv_active: number;
  sv_idle: number;
  sv_used: number;
  sv_tested: number;
  sv_login: number;
}

describe('behind PgBouncer in transaction mode', () => {
  it('npm run test:pgbouncer: the apps under test connect through the run’s PgBouncer, as DATABASE_POOLER=pgbouncer without prepared statements', async () => {
    const tested = await startApp();
    try {
      expect(tested.config.database).toMatchObject({ pooler: 'pgbouncer', preparedStatements: false });
      expect((await tested.api.GET('/api/product/')).response.status).toBe(200);
      const name = new URL(tested.databaseUrl).pathname.slice(1);
      const clients = await consoleQuery<{ database: string }>(pooledUrl(adminUrl()), 'SHOW CLIENTS');
      expect(clients.filter((c) => c.database === name).length).toBeGreaterThan(0);
    } finally {
      await tested.close();
    }
  });

  it('npm run test:pgbouncer: a serving app (openDatabase with its pools and bounded waits) runs in the pooler mode, and the run’s pooler gives it the configured timeouts', async () => {
    const own = await createTestDatabase();
    const warnings: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    // The direct URL: startServingApp routes it through the run's PgBouncer, with its settings.
    const serving = await startServingApp(own.url, {}, () => own.drop(), logger);
    try {
      expect(serving.config.database).toMatchObject({ pooler: 'pgbouncer', preparedStatements: false });
      expect((await serving.api.GET('/api/product/')).response.status).toBe(200);
      const name = new URL(own.url).pathname.slice(1);
      const clients = (await consoleQuery<{ database: string; application_name: string }>(pooledUrl(adminUrl()), 'SHOW CLIENTS')).filter((c) => c.database === name);
      // Its ORM pools' clients, all under the one pooled name (no timeouts sent: PgBouncer would
      // refuse them); the job queue's (pg-boss names its own, `pgboss:...`) are left out.
      const orm = clients.map((c) => c.application_name).filter((n) => !n.startsWith('pgboss:'));
      expect(orm.length).toBeGreaterThan(0);
      expect(new Set(orm)).toEqual(new Set(['ecommerce-backend:pooled']));
      // The start-time check found the run's connect_query timeouts (test/support/pgbouncer.ts): no warning.
      expect(warnings.filter((w) => String(w.msg).includes("sessions' timeouts"))).toEqual([]);
    } finally {
      await serving.close();
    }
  });

  it('takes no timeout as a startup parameter (PgBouncer refuses them); with DATABASE_POOLER=pgbouncer the sessions have the pooler’s', async () => {
    const limits: DatabaseLimits = { readPoolMax: 1, acquireTimeoutMs: 5000, lockTimeoutMs: 3000, statementTimeoutMs: 15000, readStatementTimeoutMs: 10000 };
    const SESSION = `select current_setting('lock_timeout') as lock, current_setting('statement_timeout') as statement, current_setting('application_name') as app`;
    const url = pgbouncer.through(db.url);

    const unpooled = async () => {
      const orm = await MikroORM.init(ormOptions({ clientUrl: url, poolMax: 1, limits }));
      try {
        return await orm.em.fork().execute(SESSION);
      } finally {
        await orm.close();
      }
    };
    await expect(unpooled()).rejects.toThrow(/unsupported startup parameter: (lock|statement)_timeout/);

    const pooled = await MikroORM.init(ormOptions({ clientUrl: url, poolMax: 1, limits: { ...limits, pooler: 'pgbouncer' } }));
    try {
      // The read pool and the write pool alike: the settings of the server connection, from connect_query.
      expect(firstOf(await pooled.em.fork().execute(SESSION))).toEqual({ lock: '3s', statement: '10min', app: 'ecommerce-backend:pooled' });
      expect(firstOf(await pooled.em.fork().transactional((tx) => tx.execute(SESSION)))).toEqual({ lock: '3s', statement: '10min', app: 'ecommerce-backend:pooled' });
    } finally {
      await pooled.close();
    }
  });

  it('two server processes with pools of 10 + 10 answer a burst of concurrent reads and writes over 5 server connections', async () => {
    const servers = await Promise.all([start(PATIENT), start(PATIENT)]);
    // Checked at start: the pooler's sessions have the configured timeouts, so no warning.
    for (const s of servers) expect(s.lines.filter((l) => String(l.msg).includes("sessions' timeouts"))).toEqual([]);
    const customers = [];
    for (let i = 0; i < 8; i++) {
      const { user, password } = await registerCustomer(app);
      customers.push((await login(app, user.username, password)).access);
    }

    let maxSessions = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxSessions = Math.max(maxSessions, await serverSessions());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const failures: string[] = [];
    const requests = [];
    for (let i = 0; i < 240; i++) {
      const server = servers[i % 2]!;
      const token = customers[i % customers.length]!;
      const request = (() => {
        switch (i % 4) {
          case 0:
            return server.api.GET('/api/product/', { params: { query: { category: String(category) } } });
          case 1:
            return server.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } });
          case 2:
            return server.as(token).POST('/api/cart/add/', { body: { variant: product.variants[0].id, quantity: 1 } });
          default:
            return server.as(token).GET('/api/cart/');
        }
      })();
      // A failure is kept with its problem code, so a red run says what went wrong.
      requests.push(request.then((r) => void (r.response.ok || failures.push(`${r.response.status} ${JSON.stringify(r.error)}`))));
    }
    await Promise.all(requests);
    const clients = (await pgbouncer.admin<{ database: string }>('SHOW CLIENTS')).filter((c) => c.database === dbName).length;
    sampling = false;
    await sampler;

    expect(failures).toEqual([]);
    // Every line added, none lost: each customer added one per request of theirs.
    const { rows } = await watcher.query<{ quantity: number }>('select coalesce(sum(quantity), 0)::int as quantity from cart_items where variant_id = $1', [product.variants[0].id]);
    expect(firstOf(rows).quantity).toBe(60);
    // Many clients, few server sessions: PgBouncer multiplexed them.
    expect(clients).toBeGreaterThan(POOL);
    expect(maxSessions).toBeGreaterThan(0);
    expect(maxSessions).toBeLessThanOrEqual(POOL);
    const pool = (await pgbouncer.admin<PoolRow>('SHOW POOLS')).find((p) => p.database === dbName)!;
    expect(pool.sv_active + pool.sv_idle + pool.sv_used + pool.sv_tested + pool.sv_login).toBeLessThanOrEqual(POOL);
  });

  it('bounds lock waits with the pooler’s lock_timeout: a write behind a held row lock is 503 DATABASE_BUSY, not a hang (its statement timeout, 10 minutes, would outlast the test)', async () => {
    const holder = await session(db.url);
    await holder.query('begin');
    await holder.query('select id from product_variants where id = $1 for update', [product.variants[0].id]);
    try {
      const patched = await app.as(vendor.tokens.access).PATCH('/api/variant/{id}/', { params: { path: { id: product.variants[0].id } }, body: { stock: 42 } });
      expect(patched.response.status).toBe(503);
      expect(patched.error).toMatchObject({ status: 503, code: 'DATABASE_BUSY' });
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
  });

  it('says at start when the pooler’s sessions lack the configured timeouts (no connect_query, no role settings)', async () => {
    const bare = await startPgBouncer(adminUrl(), { poolSize: POOL, connectQuery: '' });
    try {
      const server = await start({ ...POOLED, DATABASE_URL: bare.through(db.url), WORKER_IN_PROCESS: 'false' });
      const warning = await server.waitFor((l) => String(l.msg).includes("sessions' timeouts"));
      expect(warning).toMatchObject({
        level: 40,
        gaps: ['primary: lock_timeout is 0 ms, DATABASE_LOCK_TIMEOUT_MS is 3000', `primary: statement_timeout is 0 ms, DATABASE_STATEMENT_TIMEOUT_MS is ${STATEMENT_MS}`],
        pooler: 'pgbouncer',
      });
      // It still serves: the warning is the operator's cue, not a refusal.
      expect((await server.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } })).response.status).toBe(200);
      await server.stop();
    } finally {
      await bare.close();
    }
  });

  it('with DATABASE_POOLER=none, says at start when something in between dropped the timeouts the app sent (a pooler that ignores them)', async () => {
    // A pooler configured to accept and drop the startup timeouts, with nothing on its sessions.
    const dropping = await startPgBouncer(adminUrl(), { poolSize: POOL, connectQuery: '', ignoreStartupParameters: ['lock_timeout', 'statement_timeout'] });
    const warnings: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    try {
      const unaware = await startServingApp(dropping.through(db.url), { DATABASE_POOLER: 'none', DATABASE_PREPARED_STATEMENTS: 'false' }, undefined, logger);
      try {
        expect(warnings.filter((w) => String(w.msg).includes("sessions' timeouts"))).toEqual([
          expect.objectContaining({
            level: 40,
            pooler: 'none',
            gaps: ['primary: lock_timeout is 0 ms, DATABASE_LOCK_TIMEOUT_MS is 3000', 'primary: statement_timeout is 0 ms, DATABASE_STATEMENT_TIMEOUT_MS is 15000'],
            msg: expect.stringContaining('set DATABASE_POOLER=pgbouncer'),
          }),
        ]);
        // It still serves.
        expect((await unaware.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } })).response.status).toBe(200);
      } finally {
        await unaware.close();
      }
    } finally {
      await dropping.close();
    }
  });
});
