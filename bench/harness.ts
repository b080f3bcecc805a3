/**
 * What `npm run bench` (bench/run.ts) and `npm run bench:scale` (bench/scale.ts) share: the bench
 * database (migrated, seeded or reused), the scenario parameters derived from its data, the app's
 * production build and processes, and the interleaved autocannon rounds.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ProgressBar } from '../src/cli/progress';
import { migrate } from '../src/db/database';
import { ormOptions } from '../src/orm.config';
import { seedCatalog, type SeedProgress } from '../src/seed/catalog';

export const ROOT = join(__dirname, '..');
export const PAGE = 20;
export const DEEP_PAGE = 1000;
export const SEARCH = 'wireless headphones';

export const log = (message: string) => console.error(`[bench] ${message}`);

/** The single row a query must return: a clear error when it returns none. */
export function firstRow<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`the query for ${what} returned no row`);
  return row;
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  await withClient(admin.toString(), async (c) => {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      log(`creating database ${name}`);
      await c.query(`create database "${name.replace(/"/g, '""')}"`);
    }
  });
}

/** Applies this checkout's migrations to the database at `url`. */
export async function migrateDatabase(url: string): Promise<void> {
  const orm = await MikroORM.init(ormOptions({ clientUrl: url, poolMax: 2 }));
  try {
    const applied = await migrate(orm);
    if (applied.length) log(`migrations applied: ${applied.join(', ')}`);
  } finally {
    await orm.close();
  }
}

/**
 * The node flags `npm start` runs the server with (the heap settings in package.json's `start`
 * script), read from the checkout in `dir`: each build is measured as it is deployed.
 */
export function serverNodeFlags(dir: string): string[] {
  const start = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const flags = /^node\s+(.*?)\s*dist\/src\/main\.js/.exec(start)?.[1];
  return flags ? flags.split(/\s+/) : [];
}

/** `npm run build`: the production build both benchmarks start (`node dist/src/main.js`). */
export function buildApp(): void {
  log('building the app (npm run build)');
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
}

/**
 * The env of an API server under load: production mode, response validation off, LOG_LEVEL=warn,
 * on 127.0.0.1:`port`. Servers given the same `secret` (JWT_SECRET) accept each other's cursors.
 */
export function apiServerEnv(o: { port: number; databaseUrl: string; secret: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: o.databaseUrl,
    JWT_SECRET: o.secret,
    PAYMENT_WEBHOOK_SECRET: o.secret,
    // One client address sends all the load: per-address throttling would measure itself.
    RATE_LIMIT_MAX: '0',
    VALIDATE_RESPONSES: 'false',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(o.port),
  };
}

/** A row of bench_seed (numeric comes back as a string). */
interface SeedMarker {
  products: number;
  seed: number;
  seconds: string;
  report: SeedReport;
  seeded_at: Date;
}

type SeedReport = { variants: number; seconds: { load: number; indexes: number; analyze: number } };

export interface SeedInfo {
  reused: boolean;
  seconds?: number;
  detail: string;
}

export interface SeedOptions {
  products: number;
  seed: number;
  /** Seed again even when the database already holds `products` products. */
  reseed?: boolean;
}

/** Seeds the catalog unless the database already holds that many products (marker table bench_seed records how it was made). */
export async function seedOrReuse(url: string, o: SeedOptions): Promise<SeedInfo> {
  return withClient(url, async (c) => {
    await c.query(`create table if not exists bench_seed (products int not null, seed int not null, seconds numeric not null, report jsonb not null, seeded_at timestamptz not null default now())`);
    const { n } = firstRow((await c.query<{ n: number }>('select count(*)::int as n from products')).rows, 'the product count');
    if (n === o.products && !o.reseed) {
      const marker = (await c.query<SeedMarker>('select * from bench_seed order by seeded_at desc limit 1')).rows[0];
      const detail = marker && marker.products === o.products
        ? `reused; seeded ${new Date(marker.seeded_at).toISOString().slice(0, 10)} in ${marker.seconds} s (${describeSeed(marker.report)})`
        : 'reused; seeded outside the benchmark (no timing recorded)';
      log(`reusing the ${n.toLocaleString('en-US')}-product catalog (${detail})`);
      return { reused: true, seconds: marker?.seconds ? Number(marker.seconds) : undefined, detail };
    }
    log(`seeding ${o.products.toLocaleString('en-US')} products (the database holds ${n.toLocaleString('en-US')})`);
    let bar: ProgressBar | undefined;
    let index: ProgressBar | undefined;
    const onProgress = (p: SeedProgress) => {
      if (p.phase === 'load') (bar ??= new ProgressBar('products', p.total)).update(p.done);
      else if (p.phase === 'index') {
        if (!index) bar?.finish();
        (index ??= new ProgressBar('indexes ', p.total, process.stderr, false)).update(p.done);
      } else index?.finish();
    };
    const report = await seedCatalog(c, { products: o.products, seed: o.seed, reset: true, onProgress });
    await c.query('insert into bench_seed (products, seed, seconds, report) values ($1, $2, $3, $4)', [o.products, o.seed, report.seconds.total, report]);
    const detail = `seeded by this run in ${report.seconds.total} s (${describeSeed(report)})`;
    log(detail);
    return { reused: false, seconds: report.seconds.total, detail };
  });
}

function describeSeed(report: SeedReport): string {
  return `${report.variants.toLocaleString('en-US')} variants; COPY ${report.seconds.load} s, indexes ${report.seconds.indexes} s, analyze ${report.seconds.analyze} s`;
}

export interface Params {
  category: { id: number; slug: string; matching: number };
  minPrice?: string;
  maxPrice?: string;
  detailIds: number[];
  searchMatches: number;
}

/** The scenario parameters, derived from the data so they fit any seed. */
export async function scenarioParams(url: string): Promise<Params> {
  return withClient(url, async (c) => {
    // The mid-level category with the most products for sale (path[2] of its leaves), and the
    // price range of its middle 90%.
    const top = firstRow(
      (await c.query<{ id: number; n: number }>(`
      select c.path[2] as id, count(*)::int as n from products p join categories c on c.id = p.category_id
       where p.is_active and p.in_stock and cardinality(c.path) >= 2 group by 1 order by 2 desc limit 1`)).rows,
      'the largest mid-level category with products in stock (is the catalog seeded?)',
    );
    const cat = firstRow(
      (await c.query<{ id: number; slug: string; lo: number; hi: number }>(`
      select m.id, m.slug, floor(percentile_disc(0.05) within group (order by p.price))::int as lo,
             ceil(percentile_disc(0.95) within group (order by p.price))::int as hi
        from categories m join categories c on c.path @> array[m.id] join products p on p.category_id = c.id
       where m.id = $1 and p.is_active and p.in_stock group by m.id, m.slug`, [top.id])).rows,
      `the price range of category ${top.id}`,
    );
    const minPrice = `${cat.lo}.00`;
    const maxPrice = `${cat.hi}.00`;
    const { n } = firstRow(
      (await c.query<{ n: number }>(
        `select count(*)::int as n from products where is_active and in_stock and price between $2 and $3
            and category_id in (select id from categories where path @> array[$1::int])`,
        [cat.id, minPrice, maxPrice],
      )).rows,
      'the filtered list count',
    );
    const deepEnough = n > PAGE * DEEP_PAGE;
    if (!deepEnough) log(`only ${n} products match the price range: the list scenarios drop it to reach page ${DEEP_PAGE}`);
    const detailIds = (await c.query<{ id: number }>('select id from products where is_active and id % 97 = 13 order by id limit 10000')).rows.map((r) => r.id);
    const { s } = firstRow(
      (await c.query<{ s: number }>(
        `select count(*)::int as s from products p where p.is_active and (p.search_vector @@ websearch_to_tsquery('english', $1) or $1 <% p.name)`,
        [SEARCH],
      )).rows,
      'the search count',
    );
    return {
      category: { id: cat.id, slug: cat.slug, matching: deepEnough ? n : top.n },
      minPrice: deepEnough ? minPrice : undefined,
      maxPrice: deepEnough ? maxPrice : undefined,
      detailIds,
      searchMatches: s,
    };
  });
}

export function listQuery(p: Params, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ category: p.category.slug });
  if (p.minPrice) q.set('min_price', p.minPrice);
  if (p.maxPrice) q.set('max_price', p.maxPrice);
  q.set('in_stock', 'true');
  q.set('ordering', 'price');
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

/** Waits until `url` answers as `ready` says (by default: 2xx). */
export async function waitFor(url: string, child: ChildProcess, what: string, ready = (res: Response) => res.ok): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if (ready(await fetch(url))) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready at ${url}`);
}

export function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface Measured {
  /** The scenario's letter ("a", "e2"...): the same on every variant. */
  key: string;
  name: string;
  target: string;
  /** Which server a scenario runs on, when several answer the same scenario ("old"/"new" builds, scale-out setups). */
  variant?: string;
  rps?: number;
  p50?: number;
  p99?: number;
  /** req/s of each round, in round order. */
  roundRps?: number[];
  requests?: number;
  non2xx?: number;
  errors?: number;
  note?: string;
  /** The bare baseline, the 100% of "vs bare". */
  bare?: boolean;
  /** Seconds of load over all rounds. */
  seconds?: number;
  /** What the meter counted over all rounds (CPU seconds per process group, with bench/scale.ts). */
  usage?: Record<string, number>;
}

export interface Scenario {
  key: string;
  name: string;
  base: string;
  next: () => string;
  shape: (body: unknown) => boolean;
  variant?: string;
  bare?: boolean;
  /** Known before probing: why the scenario cannot run (it is reported, not measured). */
  unavailable?: string;
  /** The request's method (GET), body and headers, the same for every request (a GraphQL POST). */
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
}

/** Cycles through the paths (at least one). */
export function cycle(paths: string[]): () => string {
  if (!paths.length) throw new Error('a scenario needs at least one path');
  let i = 0;
  return () => {
    const path = paths[i++ % paths.length];
    if (path === undefined) throw new Error('a scenario path is missing');
    return path;
  };
}

/** One GET of the scenario: undefined when it answers 200 with the expected shape, else why not. */
async function probe(s: Scenario): Promise<string | undefined> {
  try {
    const res = await fetch(s.base + s.next(), { method: s.method, body: s.body, headers: s.headers });
    const body = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
    if (res.status !== 200 || !s.shape(body)) return `endpoint not available (HTTP ${res.status})`;
    return undefined;
  } catch (err) {
    return `endpoint not available (${(err as Error).message})`;
  }
}

function cannon(s: Scenario, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: s.base,
    connections,
    duration: seconds,
    // Only what the scenario sets: autocannon takes an undefined method for one it does not support.
    requests: [{ ...(s.method && { method: s.method }), ...(s.body && { body: s.body }), ...(s.headers && { headers: s.headers }), setupRequest: (req: autocannon.Request) => ({ ...req, path: s.next() }) }],
  });
}

/** The median (the upper one of an even count); undefined for none. */
const median = (values: number[]): number | undefined => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const rpsOf = (r: autocannon.Result) => r.requests.total / r.duration;

/** The variant a scenario runs on, in the logs (only where there are several). */
const tag = (s: Scenario) => (s.variant ? ` [${s.variant}]` : '');

export interface MeasureOptions {
  connections: number;
  /** Seconds of warm-up per scenario, and of measurement per scenario over all rounds. */
  warmup: number;
  duration: number;
  rounds: number;
  /** Resolves once the database has finished the requests still queued by the last run. */
  drained: () => Promise<void>;
  /** Started right before each measured round of a scenario, stopped right after it (before draining): what it counted. */
  meter?: (s: Scenario) => () => Record<string, number>;
}

/**
 * Probes every scenario, warms up the available ones, then measures them in `rounds` interleaved
 * rounds (a, b, c... a, b, c...), so that background load on a shared machine weighs on all of them
 * alike. Scenarios with the same key (one per variant: builds with --baseline, setups in
 * bench/scale.ts) run back to back, their order rotated by one each round (with two: the given
 * order in odd rounds, reversed in even rounds), so no variant always goes first. Between two runs
 * it waits for the database to finish the requests still queued (a slow scenario would otherwise
 * weigh on the next one). req/s is the total over all rounds; p50 and p99 are the medians of the
 * rounds' values; the meter's counts are summed over the rounds.
 */
export async function measureAll(scenarios: Scenario[], o: MeasureOptions): Promise<Measured[]> {
  const runs: { s: Scenario; rounds: autocannon.Result[]; usage: Record<string, number>; note?: string }[] = [];
  for (const s of scenarios) {
    const note = s.unavailable ?? (await probe(s));
    if (note && !s.unavailable) log(`${s.name}${tag(s)}: ${note}`);
    runs.push({ s, rounds: [], usage: {}, note });
  }
  // The live runs, those of one key together.
  const groups: (typeof runs)[] = [];
  for (const run of runs.filter((r) => !r.note)) {
    const group = groups.find((g) => g[0]?.s.key === run.s.key);
    if (group) group.push(run);
    else groups.push([run]);
  }
  for (const run of groups.flat()) {
    log(`${run.s.name}${tag(run.s)}: warm-up ${o.warmup} s`);
    await cannon(run.s, o.warmup, o.connections);
    await o.drained();
  }
  const rotated = <T>(g: T[], round: number): T[] => {
    const k = (round - 1) % g.length;
    return [...g.slice(k), ...g.slice(0, k)];
  };
  const slice = Math.max(1, Math.round(o.duration / o.rounds));
  for (let round = 1; round <= o.rounds; round++) {
    for (const run of groups.flatMap((g) => rotated(g, round))) {
      const stop = o.meter?.(run.s);
      const r = await cannon(run.s, slice, o.connections);
      for (const [k, v] of Object.entries(stop?.() ?? {})) run.usage[k] = (run.usage[k] ?? 0) + v;
      await o.drained();
      run.rounds.push(r);
      log(`round ${round}/${o.rounds} ${run.s.name}${tag(run.s)}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
    }
  }
  return runs.map(({ s, rounds, usage, note }) => {
    const common = { key: s.key, name: s.name, target: s.next(), variant: s.variant };
    if (note) return { ...common, note };
    const seconds = rounds.reduce((t, r) => t + r.duration, 0);
    return {
      ...common,
      rps: rounds.reduce((t, r) => t + r.requests.total, 0) / seconds,
      p50: median(rounds.map((r) => r.latency.p50)),
      p99: median(rounds.map((r) => r.latency.p99)),
      roundRps: rounds.map(rpsOf),
      requests: rounds.reduce((t, r) => t + r.requests.total, 0),
      non2xx: rounds.reduce((t, r) => t + r.non2xx, 0),
      errors: rounds.reduce((t, r) => t + r.errors, 0),
      bare: s.bare,
      seconds,
      usage: o.meter ? usage : undefined,
    };
  });
}

/**
 * Resolves once no other session on the databases at `urls` runs a statement (polled every 100 ms,
 * at most 30 s); `close` ends its connections.
 */
export async function drainWatcher(urls: string[]): Promise<{ drained: () => Promise<void>; close: () => Promise<void> }> {
  const clients = urls.map((url) => new Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  const busy = async (c: Client) =>
    firstRow(
      (await c.query<{ busy: number }>(
        `select count(*)::int as busy from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`,
      )).rows,
      'the active connections',
    ).busy;
  return {
    async drained() {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if ((await Promise.all(clients.map(busy))).every((n) => n === 0)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

export const isList = (b: unknown) => typeof b === 'object' && b !== null && Array.isArray((b as { results?: unknown }).results);
export const isObject = (b: unknown) => typeof b === 'object' && b !== null && 'id' in b;

export const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export const notesOf = (r: Measured) => [r.note, r.non2xx ? `${r.non2xx} non-2xx` : '', r.errors ? `${r.errors} errors` : ''].filter(Boolean).join('; ');

export function readJson(path: string): { version: string } {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
}

export function git(dir: string, ...args: string[]): string | undefined {
  const run = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** A checkout's commit for the report: short hash, "+ uncommitted changes" when its tree differs. */
export function describeCheckout(dir: string): string {
  const commit = git(dir, 'rev-parse', '--short', 'HEAD');
  if (!commit) return 'not a git checkout';
  return git(dir, 'status', '--porcelain', '--untracked-files=no') ? `commit ${commit} + uncommitted changes` : `commit ${commit}`;
}

/** The machine, for a report: cores, CPU model, memory, kernel. */
export function describeMachine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osType()} ${release()}`;
}
