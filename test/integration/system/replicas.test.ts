import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { until } from '../../support/database-probes';
import { actor, type Actor } from '../../support/factories';
import { type PrivatePostgres, startPrivatePostgres } from '../../support/private-postgres';
import { type PrivateReplica, startStreamingReplica } from '../../support/replication';
import { type ServerProcess, startServer } from '../../support/processes';
import { startRedis } from '../../support/redis';
import { startServingApp } from '../../support/serving-app';

/**
 * Read replicas (issue 16), against a real streaming replica of a private primary: which server
 * answers is read from the servers' own statement logs (`log_statement = all`, each line prefixed
 * with the session's application_name: `ecommerce-backend:read`, `:write` or `:replica-0`), never
 * from the app's word. The lag is made real and deterministic by pausing the replica's replay.
 *
 * Every request is plain HTTP to the real app, with response validation on. The "reader" is an
 * anonymous shopper with a cart token of its own (the test's other callers share its address,
 * 127.0.0.1).
 */

const METRICS_TOKEN = 'replica-metrics-token-0123456789';
const MAX_LAG_MS = 5000;

let pg: PrivatePostgres;
let replica: PrivateReplica;
let app: TestApp;
let vendor: Actor;
let admin: Actor;
let customer: Actor;
let category: number;
let product: { id: number; name: string };
let variant: number;
const reader = { 'X-Cart-Token': `reader-${randomUUID()}` };

/** Statements run by the app's sessions since `from` (characters of the log), the replica monitor's checks left out. */
function appStatements(log: string, from: number): string[] {
  return log
    .slice(from)
    .split('\n')
    .filter((line) => /^ecommerce-backend:[a-z0-9-]+@LOG: {2}(statement|execute [^:]*):/.test(line) && !/pg_is_in_recovery|pg_current_wal_lsn/.test(line));
}

/** What `run` made each server run: its statements on the primary and on the replica. */
async function servedBy<T>(run: () => Promise<T>): Promise<{ result: T; primary: string[]; replica: string[] }> {
  const p = pg.log().length;
  const r = replica.log().length;
  const result = await run();
  return { result, primary: appStatements(pg.log(), p), replica: appStatements(replica.log(), r) };
}

async function get(path: string, headers: Record<string, string> = reader): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${app.baseUrl}${path}`, { headers });
  return { status: res.status, body: await res.json() };
}

async function graphql(query: string, headers: Record<string, string> = reader): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }> {
  const res = await fetch(`${app.baseUrl}/graphql/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: unknown[] } };
}

type Readiness = { status: number; body: { checks?: { replicas?: { name: string; status: string; lag_seconds: number | null }[] } } };
const readiness = async () => (await get('/readyz', {})) as Readiness;
const replicaStatus = async () => (await readiness()).body.checks?.replicas?.[0]?.status;

async function metrics(): Promise<string> {
  const res = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Waits until the replica has replayed everything the primary has written so far. */
async function replicaCaughtUp(): Promise<void> {
  const client = new Client({ connectionString: pg.url() });
  await client.connect();
  const { rows } = await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  await client.end();
  await until('the replica to replay the primary', () => replica.query<{ done: boolean }>(`select pg_last_wal_replay_lsn() >= '${rows[0]!.lsn}'::pg_lsn as done`), ([r]) => r?.done === true);
}

beforeAll(async () => {
  pg = await startPrivatePostgres({ settings: { log_statement: 'all', log_line_prefix: '%a@' } });
  const url = await pg.createDatabase('shop');
  replica = await startStreamingReplica(pg);
  app = await startServingApp(url, {
    DATABASE_POOL_MAX: '4',
    DATABASE_READ_POOL_MAX: '4',
    DATABASE_REPLICA_URLS: replica.url('shop'),
    DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
    DATABASE_REPLICA_CHECK_MS: '200',
    DATABASE_READ_YOUR_WRITES_MS: '60000',
    // A frozen replica's reads are given up a second after this (pg's query_timeout), then run on the primary.
    DATABASE_READ_STATEMENT_TIMEOUT_MS: '2000',
    METRICS_TOKEN,
  });
  admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  customer = await actor(app, 'customer');
  category = (await makeCategory(admin)).id;
  const made = await makeProduct(vendor, category, { stock: 50, description: 'A lamp of brass and glass' });
  product = { id: made.id, name: made.name };
  variant = made.variants[0].id;
  await replicaCaughtUp();
  await until('the replica to be in use', replicaStatus, (s) => s === 'ok');
}, 300_000);

afterAll(async () => {
  await app?.close();
  await replica?.close();
  await pg?.close();
});

describe('read replicas', () => {
  it('serves the catalog (REST and GraphQL) from the replica, and carts, orders, administration and writes from the primary', async () => {
    const catalog: [string, () => Promise<{ status: number }>][] = [
      ['list', () => get('/api/product/')],
      ['search', () => get('/api/product/?search=brass')],
      ['facets', () => get(`/api/product/facets/?category=${category}`)],
      ['detail', () => get(`/api/product/${product.id}/`)],
      ['variants', () => get(`/api/variant/?product=${product.id}`)],
      ['categories', () => get('/api/category/')],
      ['category tree', () => get('/api/category/tree/')],
      ['category', () => get(`/api/category/${category}/`)],
      ['reviews', () => get(`/api/review/?product=${product.id}`)],
      ['graphql products', () => graphql('{ products(first: 5) { edges { node { id name } } } categoryTree { id } }')],
      ['graphql product', () => graphql(`{ product(id: ${product.id}) { name reviews { id } } }`)],
    ];
    for (const [what, run] of catalog) {
      const { result, primary, replica: onReplica } = await servedBy(run);
      expect([what, result.status]).toEqual([what, 200]);
      expect([what, onReplica.length > 0]).toEqual([what, true]);
      expect([what, primary]).toEqual([what, []]);
    }

    const bearer = (a: Actor) => ({ authorization: `Bearer ${a.tokens.access}` });
    const primaryOnly: [string, () => Promise<{ status: number }>][] = [
      ['cart', () => get('/api/cart/', bearer(customer))],
      ['orders', () => get('/api/order/', bearer(customer))],
      ['users (admin)', () => get('/api/users/', bearer(admin))],
      ['graphql cart', () => graphql('{ cart { id item_count } }', bearer(customer))],
      ['add to cart', async () => ({ status: (await customer.api.POST('/api/cart/add/', { body: { variant: variant, quantity: 1 } })).response.status })],
      ['readiness', () => readiness()],
    ];
    for (const [what, run] of primaryOnly) {
      const { result, primary, replica: onReplica } = await servedBy(run);
      expect([what, result.status]).toEqual([what, 200]);
      expect([what, primary.length > 0]).toEqual([what, true]);
      expect([what, onReplica]).toEqual([what, []]);
    }
  });

  it('answers a catalog read with a token whose payload is not JSON as it answers one with any other unusable token (never a 500)', async () => {
    const notJson = { ...reader, authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.x' };
    const garbage = { ...reader, authorization: 'Bearer garbage' };
    for (const path of ['/api/product/', `/api/product/${product.id}/`, `/api/review/?product=${product.id}`]) {
      const [a, b] = [await get(path, notJson), await get(path, garbage)];
      expect([path, a.status]).toEqual([path, b.status]);
      expect([path, a.status]).not.toEqual([path, 500]);
    }
    const query = `{ product(id: ${product.id}) { name } }`;
    const [a, b] = [await graphql(query, notJson), await graphql(query, garbage)];
    // The same answer but for the wording of why the token was refused.
    const codes = (r: typeof a) => ({ status: r.status, data: r.body.data, codes: (r.body.errors as { extensions?: { code?: string } }[] | undefined)?.map((e) => e.extensions?.code) });
    expect(codes(a)).toEqual(codes(b));
    expect(a.status).not.toBe(500);
  });

  it('keeps a shopper who adds to their cart reading the catalog from the replica (only writes of the catalog count)', async () => {
    const added = await servedBy(async () => (await customer.api.POST('/api/cart/add/', { body: { variant, quantity: 1 } })).response.status);
    expect(added.result).toBe(200);
    const own = await servedBy(() => get(`/api/product/${product.id}/`, { authorization: `Bearer ${customer.tokens.access}` }));
    expect(own.result.status).toBe(200);
    expect(own.replica.length).toBeGreaterThan(0);
    // On the primary only the token check of the signed-in caller (the user's row), never the catalog.
    expect(own.primary.filter((line) => !/ from "users" /.test(line))).toEqual([]);
  });

  it('lets a vendor read the product they just saved from the primary while the replica, paused, still serves the old one to others', async () => {
    await replicaCaughtUp();
    await replica.pauseReplay();
    try {
      const renamed = `Renamed ${randomUUID().slice(0, 8)}`;
      const saved = await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: product.id } }, body: { name: renamed } });
      expect(saved.response.status).toBe(200);

      // The vendor, at once: their own write, from the primary.
      const own = await servedBy(() => get(`/api/product/${product.id}/`, { authorization: `Bearer ${vendor.tokens.access}` }));
      expect(own.result).toMatchObject({ status: 200, body: { name: renamed } });
      expect(own.replica).toEqual([]);
      // Anyone else: the replica's copy, still the old name (within the lag bound, which is allowed).
      const other = await servedBy(() => get(`/api/product/${product.id}/`));
      expect(other.result).toMatchObject({ status: 200, body: { name: product.name } });
      expect(other.replica.length).toBeGreaterThan(0);
      expect(other.primary).toEqual([]);
      product.name = renamed;
    } finally {
      await replica.resumeReplay();
    }
    expect(sample(await metrics(), 'db_replica_primary_reads_total', { reason: 'recent_write' })).toBeGreaterThan(0);
  });

  it('skips a replica lagging past the bound (reads go to the primary; readiness and the metrics say so) and uses it again once it caught up', async () => {
    await replicaCaughtUp();
    await replica.pauseReplay();
    try {
      const renamed = `Lagging ${randomUUID().slice(0, 8)}`;
      expect((await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: product.id } }, body: { name: renamed } })).response.status).toBe(200);
      const lagging = await until('readiness to report the replica lagging', readiness, (r) => r.body.checks?.replicas?.[0]?.status === 'lagging');
      expect(lagging.status).toBe(200);
      expect(lagging.body.checks!.replicas![0]!.lag_seconds).toBeGreaterThan(MAX_LAG_MS / 1000);

      const skipped = await servedBy(() => get(`/api/product/${product.id}/`));
      expect(skipped.result).toMatchObject({ status: 200, body: { name: renamed } });
      expect(skipped.replica).toEqual([]);
      expect(skipped.primary.length).toBeGreaterThan(0);
      const text = await metrics();
      expect(sample(text, 'db_replica_healthy', { replica: 'replica-0' })).toBe(0);
      expect(sample(text, 'db_replica_lag_seconds', { replica: 'replica-0' })).toBeGreaterThan(MAX_LAG_MS / 1000);
      expect(sample(text, 'db_replica_primary_reads_total', { reason: 'no_healthy_replica' })).toBeGreaterThan(0);
      product.name = renamed;
    } finally {
      await replica.resumeReplay();
    }
    await until('the replica to be in use again', replicaStatus, (s) => s === 'ok');
    const back = await servedBy(() => get(`/api/product/${product.id}/`));
    expect(back.result).toMatchObject({ status: 200, body: { name: product.name } });
    expect(back.replica.length).toBeGreaterThan(0);
    expect(back.primary).toEqual([]);
    expect(sample(await metrics(), 'db_replica_healthy', { replica: 'replica-0' })).toBe(1);
  });

  it('keeps read-your-writes across web processes through Redis, and each process logs when it skips the replica and when it uses it again', async () => {
    const redis = await startRedis();
    const env = {
      REDIS_URL: redis.url,
      DATABASE_REPLICA_URLS: replica.url('shop'),
      DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
      DATABASE_REPLICA_CHECK_MS: '200',
      DATABASE_READ_YOUR_WRITES_MS: '60000',
      WORKER_IN_PROCESS: 'false',
    };
    const servers: ServerProcess[] = [];
    try {
      servers.push(...(await Promise.all([startServer(app, env), startServer(app, env)])));
      const [a, b] = servers as [ServerProcess, ServerProcess];
      for (const s of servers) {
        await s.waitFor((l) => l.msg === 'connected to Redis: rate limits and login throttling are shared by every process');
        await s.waitFor((l) => l.msg === 'database replica replica-0 is in use');
      }
      await replicaCaughtUp();
      await replica.pauseReplay();
      try {
        const renamed = `Shared ${randomUUID().slice(0, 8)}`;
        expect((await a.as(vendor.tokens.access).PATCH('/api/product/{id}/', { params: { path: { id: product.id } }, body: { name: renamed } })).response.status).toBe(200);
        // The other process knows of the write (Redis): the vendor reads it there from the primary...
        const own = await b.as(vendor.tokens.access).GET('/api/product/{id}/', { params: { path: { id: product.id } } });
        expect(own.data?.name).toBe(renamed);
        // ...while anyone else still gets the paused replica's copy there.
        const other = await b.api.GET('/api/product/{id}/', { params: { path: { id: product.id } }, headers: reader });
        expect(other.data?.name).toBe(product.name);
        product.name = renamed;
        for (const s of servers) await s.waitFor((l) => l.msg === 'database replica replica-0 is skipped (lagging): its reads go to the primary' && l.level === 40);
      } finally {
        await replica.resumeReplay();
      }
      for (const s of servers) await s.waitFor((l) => l.msg === 'database replica replica-0 is in use' && l.was === 'lagging' && l.level === 30);
    } finally {
      for (const s of servers) await s.stop('SIGKILL');
      await redis.stop();
    }
  }, 180_000);

  it('answers every read, from the primary, while the replica is frozen (SIGSTOP: its connections open, nothing answering), and uses it again once thawed', async () => {
    await until('the replica to be in use', replicaStatus, (s) => s === 'ok');
    const paths = ['/api/product/', `/api/product/${product.id}/`, '/api/category/tree/'];
    // Each answer's status, with its body when it is not a 200 (what failed, if anything does).
    const reads = () =>
      Promise.all(
        paths.map(async (path) => {
          const res = await fetch(`${app.baseUrl}${path}`, { headers: reader });
          const body = await res.text();
          return res.status === 200 ? 200 : `${res.status} ${path} ${body}`;
        }),
      );
    replica.freeze();
    try {
      // Sent at once: some go to the frozen replica before any check notices it; each answers once
      // pg gives up on it (a second past DATABASE_READ_STATEMENT_TIMEOUT_MS) and the primary answered.
      const during = await Promise.all([reads(), reads(), reads()]);
      expect(during.flat().filter((s) => s !== 200)).toEqual([]);
      const frozen = await until('readiness to report the replica down', readiness, (r) => r.body.checks?.replicas?.[0]?.status === 'down');
      expect(frozen.status).toBe(200);
      expect((await reads()).filter((s) => s !== 200)).toEqual([]);
    } finally {
      replica.thaw();
    }
    await until('the replica to be in use again', replicaStatus, (s) => s === 'ok');
    const back = await servedBy(() => get(`/api/product/${product.id}/`));
    expect(back.result.status).toBe(200);
    expect(back.replica.length).toBeGreaterThan(0);
  }, 120_000);

  it('fails no request when the replica is stopped mid-run: reads go to the primary, readiness stays 200 and reports it down', async () => {
    const statuses: number[] = [];
    let stop = false;
    let afterDown = 0;
    const paths = ['/api/product/', `/api/product/${product.id}/`, '/api/product/?search=brass', '/api/category/tree/'];
    const client = async (n: number) => {
      for (let i = n; !stop; i++) {
        const res = await fetch(`${app.baseUrl}${paths[i % paths.length]}`, { headers: reader });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await until('a few reads before the stop', () => statuses.length, (n) => n >= 40);
    await replica.stop('immediate');
    const down = await until('readiness to report the replica down', readiness, (r) => r.body.checks?.replicas?.[0]?.status === 'down');
    afterDown = statuses.length;
    await until('more reads with the replica down', () => statuses.length, (n) => n >= afterDown + 40);
    stop = true;
    await Promise.all(clients);

    expect(down.status).toBe(200);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const after = await readiness();
    expect(after.status).toBe(200);
    expect(after.body.checks?.replicas).toEqual([{ name: 'replica-0', status: 'down', lag_seconds: null }]);
    expect(sample(await metrics(), 'db_replica_healthy', { replica: 'replica-0' })).toBe(0);
    // The catalog is still served, by the primary.
    const fallback = await servedBy(() => get(`/api/product/${product.id}/`));
    expect(fallback.result).toMatchObject({ status: 200, body: { name: product.name } });
    expect(fallback.primary.length).toBeGreaterThan(0);
  });
});
