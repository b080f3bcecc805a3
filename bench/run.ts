/**
 * `npm run bench`: product discovery under load (not a test).
 *
 * 1. Seeds a 1,000,000-product catalog into a dedicated database (default `ecom_bench` on
 *    DATABASE_URL's server, else 127.0.0.1:5432), or reuses it when it already holds that many
 *    products (`--reseed` forces a new one).
 * 2. Builds the app and starts it in production mode (response validation off, LOG_LEVEL=warn) as a
 *    child process, and the bare `http` + `pg` baseline (bench/bare-server.ts) beside it.
 *    With `--baseline DIR` it also starts a second API server from DIR: another checkout of this
 *    project, already built (DIR/dist/src/main.js, DIR/node_modules), run with the same node binary
 *    and the same env (production, the same bench database, the same JWT_SECRET, so a cursor is
 *    valid on both), on its own port, cwd DIR. The bench database is migrated by this checkout:
 *    the baseline build must run on that schema.
 * 3. Measures each scenario with autocannon (32 connections, a warm-up, then ~12 s): the filtered
 *    list, the same at cursor page 1,000, full-text search, product detail over many ids, the bare
 *    baseline (and its page 1,000), and the API root (the stack without the database).
 *    An endpoint the server does not have yet is reported as "endpoint not available".
 *    With `--baseline`, every API scenario ((a) to (d), (f)) is measured on both servers in the same
 *    rounds, back to back, so the noise of a shared machine weighs on both alike: old then new in odd
 *    rounds, new then old in even rounds (the second of a pair tends to gain a few % on the database
 *    scenarios: use an even --rounds). Page 1,000 uses the same cursor on both when the baseline
 *    answers it with the same page, else the cursors are walked on each server.
 * 4. Measures the raw SQL of the filtered list with pgbench (simple, extended and prepared
 *    protocols: the prepared one shows what a generic plan does), if pgbench is installed.
 * 5. Writes the results (bench/results.md, or --results FILE; with --baseline, a section "Side by
 *    side with <label>": req/s, p50, p99 of both builds and new/old, overall and per round), fills
 *    the table of the README's "Benchmark" section (the current build's; not with --no-readme),
 *    prints a summary.
 *
 * Options: --products N (1000000) --seed S (1) --database-url URL --connections C (32)
 *          --duration SEC (12, split into --rounds 3 interleaved rounds) --warmup SEC (3)
 *          --reseed --skip-build --skip-pgbench --no-readme
 *          --results FILE (bench/results.md; a relative path is from the current directory, which
 *            `npm run` sets to the project root)
 *          --baseline DIR (side by side with DIR's build) --baseline-label TEXT (default: DIR's git
 *            short commit, else DIR's directory name)
 *
 * Side by side, e.g. this checkout against another commit checked out and built in /tmp/bench-old
 * (git worktree add --detach /tmp/bench-old COMMIT && cd /tmp/bench-old && npm ci && npm run build):
 *   npm run bench -- --products 100000 --database-url postgresql://postgres@127.0.0.1:5432/ecom_bench_100k \
 *     --baseline /tmp/bench-old --rounds 4 --duration 16 --no-readme --results bench/results-issue-11.md
 * (the same without --products and --database-url: the 1,000,000-product `ecom_bench`, the only
 * one deep enough for page 1,000). With the same code on both sides, new/old stays within about
 * ±1% overall and ±8% per round on this machine: the noise floor.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../src/db/embedded';
import { toPgPlaceholders } from '../src/db/prepared';
import { type DiscoveryFilters, productListQuery } from '../src/modules/catalog/discovery.sql';
import {
  apiServerEnv,
  buildApp,
  cycle,
  DEEP_PAGE,
  describeCheckout,
  describeMachine,
  git,
  drainWatcher,
  ensureDatabase,
  firstRow,
  fmt,
  isList,
  isObject,
  listQuery,
  log,
  type Measured,
  measureAll,
  migrateDatabase,
  notesOf,
  PAGE,
  type Params,
  readJson,
  ROOT,
  type Scenario,
  scenarioParams,
  SEARCH,
  seedOrReuse,
  stopChild,
  waitFor,
  withClient,
} from './harness';

const CACHE = join(__dirname, '.cache');

const { values: opts } = parseArgs({
  options: {
    products: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    'database-url': { type: 'string' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    reseed: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    'skip-pgbench': { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
    results: { type: 'string' },
    baseline: { type: 'string' },
    'baseline-label': { type: 'string' },
  },
});
const PRODUCTS = Number(opts.products.replace(/_/g, ''));
const CONNECTIONS = Number(opts.connections);
const DURATION = Number(opts.duration);
const WARMUP = Number(opts.warmup);
const ROUNDS = Math.max(1, Number(opts.rounds));
const RESULTS = opts.results ? resolve(opts.results) : join(__dirname, 'results.md');

/** A path as shown to the reader: relative to the project when inside it. */
function shown(path: string): string {
  const rel = relative(ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

interface BaselineBuild {
  dir: string;
  label: string;
}

/** --baseline DIR, checked before anything else is done: a built checkout of this project. */
function baselineBuild(): BaselineBuild | undefined {
  if (!opts.baseline) {
    if (opts['baseline-label']) throw new Error('--baseline-label needs --baseline DIR');
    return undefined;
  }
  const dir = resolve(opts.baseline);
  for (const needed of ['dist/src/main.js', 'node_modules']) {
    if (!existsSync(join(dir, needed))) throw new Error(`--baseline ${dir}: no ${needed} there (it must be a checkout of this project, built with npm ci && npm run build)`);
  }
  const label = opts['baseline-label'] ?? git(dir, 'rev-parse', '--short', 'HEAD') ?? basename(dir);
  return { dir, label };
}

function benchDatabaseUrl(): string {
  if (opts['database-url']) return opts['database-url'];
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/ecom_bench';
  return url.toString();
}

/** Which API server a scenario runs on (its variant): this checkout's build, or the --baseline one. */
type Build = 'new' | 'old';

interface DeepWalk {
  path?: string;
  note?: string;
  seconds?: number;
}

/** Follows `next` links from page 1 to page DEEP_PAGE; the path of that page, or why not. */
async function deepPagePath(base: string, firstPath: string): Promise<DeepWalk> {
  const started = performance.now();
  let url = base + firstPath;
  for (let page = 1; page < DEEP_PAGE; page++) {
    const res = await fetch(url);
    if (res.status !== 200) return { note: `endpoint not available (HTTP ${res.status})` };
    const body = (await res.json()) as { next?: string | null };
    if (!body.next) return { note: `the list ends at page ${page}` };
    url = body.next;
  }
  const u = new URL(url);
  return { path: u.pathname + u.search, seconds: (performance.now() - started) / 1000 };
}

/** The ids of the list page at `path` on the server at `base`, or undefined when it does not answer one. */
async function pageIds(base: string, path: string): Promise<string | undefined> {
  try {
    const res = await fetch(base + path);
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { results?: { id?: unknown }[] };
    return Array.isArray(body.results) && body.results.length ? JSON.stringify(body.results.map((r) => r.id)) : undefined;
  } catch {
    return undefined;
  }
}

interface PgbenchResult {
  mode: string;
  tps?: number;
  latency?: number;
  note?: string;
}

function pgbench(url: string, p: Params): { results: PgbenchResult[]; custom?: string; generic?: string } {
  const which = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) return { results: [{ mode: '-', note: 'pgbench is not installed' }] };
  const filters: DiscoveryFilters = { visibility: { kind: 'public' }, category: p.category.slug, minPrice: p.minPrice, maxPrice: p.maxPrice, inStock: true };
  const q = productListQuery(filters, 'price', { kind: 'cursor', size: PAGE });
  let n = 0;
  const script = `${q.sql.replace(/\?/g, () => `:p${++n}`)};\n`;
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, 'filtered-list.sql');
  writeFileSync(file, script);
  // The simple protocol pastes values into the text: strings need quotes there, not as parameters.
  const defines = (quote: boolean) =>
    q.params.flatMap((v, i) => ['-D', `p${i + 1}=${quote && typeof v === 'string' && !/^[\d.]+$/.test(v) ? `'${v.replace(/'/g, "''")}'` : String(v)}`]);
  const results: PgbenchResult[] = [];
  for (const mode of ['simple', 'extended', 'prepared']) {
    log(`pgbench -M ${mode}: ${DURATION} s, ${CONNECTIONS} clients`);
    const run = spawnSync('pgbench', ['-n', '-M', mode, '-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), '-f', file, ...defines(mode === 'simple'), url], { encoding: 'utf8' });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)?.[1];
    const latency = /latency average = ([\d.]+) ms/.exec(run.stdout)?.[1];
    results.push(tps ? { mode, tps: Number(tps), latency: Number(latency) } : { mode, note: (run.stderr || run.stdout).trim().split('\n').slice(-2).join(' ') });
  }
  // The plans behind the numbers: custom (what node-postgres' unnamed statements get) and generic.
  const args = q.params.map((v) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`)).join(', ');
  const prepared = `prepare list as ${toPgPlaceholders(q.sql)}`;
  const explain = (setting: string) =>
    execFileSync('psql', ['-X', '-q', '-A', '-t', url, '-c', `set plan_cache_mode = ${setting}`, '-c', prepared, '-c', `explain execute list(${args})`], { encoding: 'utf8' }).trim();
  try {
    return { results, custom: explain('force_custom_plan'), generic: explain('force_generic_plan') };
  } catch {
    return { results };
  }
}

const vsBare = (r: Measured, bare?: Measured) => (r.rps !== undefined && bare?.rps ? `${Math.round((r.rps / bare.rps) * 100)}%` : '-');

function table(rows: Measured[], bare?: Measured): string {
  const lines = ['| Scenario | req/s | p50 ms | p99 ms | vs bare | Notes |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.bare ? 'baseline' : vsBare(r, bare)} | ${notesOf(r)} |`);
  }
  return lines.join('\n');
}

/** Each API scenario on this build (new) beside the --baseline build (old), with new/old over all rounds and per round. */
function sideBySide(rows: Measured[], bare?: Measured): string {
  const lines = [
    '| Scenario | new req/s | new p50 ms | new p99 ms | new vs bare | old req/s | old p50 ms | old p99 ms | new/old req/s | new/old per round | Notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const old of rows.filter((r) => r.variant === 'old')) {
    const cur = rows.find((r) => r.variant === 'new' && r.key === old.key);
    if (!cur) throw new Error(`no measurement of the new build for ${old.name}`);
    const ratio = cur.rps !== undefined && old.rps ? fmt(cur.rps / old.rps, 2) : '-';
    const oldRounds = old.roundRps ?? [];
    const perRound = cur.roundRps?.length
      ? cur.roundRps.map((v, i) => {
          const o = oldRounds[i];
          return o ? fmt(v / o, 2) : '-';
        }).join(' ')
      : '-';
    const notes = [notesOf(cur) && `new: ${notesOf(cur)}`, notesOf(old) && `old: ${notesOf(old)}`].filter(Boolean).join('; ');
    lines.push(
      `| ${old.name} | ${fmt(cur.rps)} | ${fmt(cur.p50)} | ${fmt(cur.p99)} | ${vsBare(cur, bare)} | ${fmt(old.rps)} | ${fmt(old.p50)} | ${fmt(old.p99)} | ${ratio} | ${perRound} | ${notes} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const baseline = baselineBuild();
  const url = benchDatabaseUrl();
  await ensureDatabase(url);
  await migrateDatabase(url);
  if (baseline && ROUNDS % 2) log(`--rounds ${ROUNDS} is odd: the baseline goes first in one round more than this build (an even count balances the order)`);
  const seed = await seedOrReuse(url, { products: PRODUCTS, seed: Number(opts.seed), reseed: opts.reseed });
  const params = await scenarioParams(url);
  log(`filtered list: category ${params.category.slug} (${params.category.matching.toLocaleString('en-US')} products in stock${params.minPrice ? ` between ${params.minPrice} and ${params.maxPrice}` : ''})`);

  if (!opts['skip-build']) buildApp();
  const [loadBefore = 0] = loadavg();
  const [apiPort, barePort] = [await freePort(), await freePort()];
  const oldPort = baseline ? await freePort() : undefined;
  const jwtSecret = randomBytes(32).toString('base64url');
  // Both API servers get this env: the same JWT_SECRET, so a cursor signed by one is valid on the other.
  const apiEnv = (port: number) => apiServerEnv({ port, databaseUrl: url, secret: jwtSecret });
  const startApi = (cwd: string, port: number) =>
    spawn(process.execPath, ['dist/src/main.js'], { cwd, env: apiEnv(port), stdio: ['ignore', 'inherit', 'inherit'] });
  let api: ChildProcess | undefined;
  let old: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  const measured: Measured[] = [];
  let deepWalk: DeepWalk;
  let oldDeepWalk: DeepWalk = {};
  // How the baseline got its page-1,000 cursor, for the report.
  let oldCursor = '';
  try {
    api = startApi(ROOT, apiPort);
    if (baseline && oldPort !== undefined) {
      log(`starting the baseline ${baseline.label} from ${baseline.dir}`);
      old = startApi(baseline.dir, oldPort);
    }
    bare = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, PORT: String(barePort) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const bareBase = `http://127.0.0.1:${barePort}`;
    const oldBase = old && oldPort !== undefined ? `http://127.0.0.1:${oldPort}` : undefined;
    await waitFor(`${apiBase}/healthz`, api, 'the server');
    // An older build may not have /healthz: any answer but a 5xx means it is listening.
    if (old && oldBase) await waitFor(`${oldBase}/healthz`, old, 'the baseline server', (res) => res.status < 500);
    await waitFor(`${bareBase}/products?page_size=1`, bare, 'the bare server');

    const list = `/api/product/?${listQuery(params)}`;
    const bareList = `/products?${listQuery(params)}`;
    log(`walking the cursors to page ${DEEP_PAGE}`);
    deepWalk = await deepPagePath(apiBase, list);
    if (oldBase) {
      const ids = deepWalk.path ? await pageIds(apiBase, deepWalk.path) : undefined;
      if (deepWalk.path && ids && ids === (await pageIds(oldBase, deepWalk.path))) {
        oldDeepWalk = { path: deepWalk.path };
        oldCursor = 'the same cursor on both (the baseline answers it with the same page)';
        log(`page ${DEEP_PAGE}: ${oldCursor}`);
      } else {
        oldCursor = deepWalk.path
          ? "the baseline does not answer this build's cursor with the same page, so its own `next` links were followed"
          : `this build has no cursor there (${deepWalk.note ?? 'none'}), so the baseline's own \`next\` links were followed`;
        log(`page ${DEEP_PAGE}: ${oldCursor}`);
        oldDeepWalk = await deepPagePath(oldBase, list);
        oldCursor += oldDeepWalk.seconds ? ` (${oldDeepWalk.seconds.toFixed(1)} s)` : `: ${oldDeepWalk.note ?? 'no cursor'} there too`;
        if (!oldDeepWalk.path) log(`page ${DEEP_PAGE} on the baseline: ${oldDeepWalk.note ?? 'no cursor'}`);
      }
    }
    // The bare server's page 1,000 starts after row 19,980 of the same ordering.
    const after = await withClient(url, async (c) => {
      const q = productListQuery(
        { visibility: { kind: 'public' }, category: params.category.slug, minPrice: params.minPrice, maxPrice: params.maxPrice, inStock: true },
        'price',
        { kind: 'page', size: 1, page: PAGE * (DEEP_PAGE - 1) },
      );
      const { rows } = await c.query<{ price: string; id: number }>(toPgPlaceholders(q.sql), q.params);
      const row = rows[0];
      return row ? `${row.price},${row.id}` : undefined;
    });

    // An API scenario runs on each build: the baseline (old) first, then this one (new).
    const builds: { build?: Build; base: string; deep: DeepWalk }[] = oldBase
      ? [
          { build: 'old', base: oldBase, deep: oldDeepWalk },
          { build: 'new', base: apiBase, deep: deepWalk },
        ]
      : [{ base: apiBase, deep: deepWalk }];
    const onApi = (key: string, name: string, paths: (b: (typeof builds)[number]) => string[], shape: (body: unknown) => boolean, unavailable?: (b: (typeof builds)[number]) => string | undefined): Scenario[] =>
      builds.map((b) => ({ key, name, base: b.base, next: cycle(paths(b)), shape, variant: b.build, unavailable: unavailable?.(b) }));
    const onBare = (key: string, name: string, paths: string[], isBare = false): Scenario => ({ key, name, base: bareBase, next: cycle(paths), shape: isList, bare: isBare });
    const scenarios: Scenario[] = [
      ...onApi('a', '(a) filtered list: category + price range + in stock, by price', () => [list], isList),
      ...onApi('b', `(b) the same at cursor page ${DEEP_PAGE}`, (b) => [b.deep.path ?? list], isList, (b) => (b.deep.path ? undefined : (b.deep.note ?? 'no cursor'))),
      ...onApi('c', `(c) full-text search "${SEARCH}"`, () => [`/api/product/?${new URLSearchParams({ search: SEARCH, ordering: 'relevance' })}`], isList),
      ...onApi('d', `(d) product detail (${params.detailIds.length.toLocaleString('en-US')} ids)`, () => params.detailIds.map((id) => `/api/product/${id}/`), isObject),
      onBare('e', '(e) bare http + pg, same SQL as (a)', [bareList], true),
      ...(after ? [onBare('e2', `(e2) bare, page ${DEEP_PAGE} (keyset)`, [`${bareList}&after=${encodeURIComponent(after)}`])] : []),
      onBare('e3', '(e3) bare, (a) as an unnamed statement (planned every time)', [`${bareList}&unnamed=1`]),
      ...onApi('f', '(f) API root GET /api/ (the stack, no database)', () => ['/api/'], (b) => typeof b === 'object' && b !== null),
    ];
    const watcher = await drainWatcher([url]);
    try {
      measured.push(...(await measureAll(scenarios, { connections: CONNECTIONS, warmup: WARMUP, duration: DURATION, rounds: ROUNDS, drained: watcher.drained })));
    } finally {
      await watcher.close();
    }
  } finally {
    await Promise.all([stopChild(api), stopChild(old), stopChild(bare)]);
  }

  const sql = opts['skip-pgbench'] ? undefined : pgbench(url, params);
  const current = measured.filter((m) => m.variant !== 'old');
  const bareRow = current.find((m) => m.bare);
  const pg = await withClient(url, async (c) => firstRow((await c.query<{ server_version: string }>('show server_version')).rows, 'the server version').server_version);
  const now = new Date();
  const summary = table(current, bareRow);
  const comparison = baseline ? sideBySide(measured, bareRow) : undefined;
  const [loadAfter = 0] = loadavg();
  const machine = describeMachine();
  const md = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC. Not a test: numbers from a shared 2-core`,
    'machine where the load generator (autocannon, in the bench process), the server and PostgreSQL compete for the same cores.',
    '',
    `- Machine: ${machine}; load average ${loadBefore.toFixed(1)} before the HTTP runs, ${loadAfter.toFixed(1)} after (other work on the machine counts too)`,
    `- Node ${process.version} (server and load generator), PostgreSQL ${pg}, autocannon ${readJson('node_modules/autocannon/package.json').version}`,
    `- Catalog: ${PRODUCTS.toLocaleString('en-US')} products, seed ${opts.seed}; ${seed.detail}`,
    `- Load: ${CONNECTIONS} connections, ${WARMUP} s warm-up then ${DURATION} s per scenario in ${ROUNDS} interleaved rounds (req/s over all rounds, p50/p99 the median of the rounds); the server is one process (\`node dist/src/main.js\`, NODE_ENV=production, response validation off, LOG_LEVEL=warn, pool of 10); the bare baseline is one process with a \`pg.Pool\` of 10, sending (a) as the same named prepared statement as the API does ((e3): unnamed, as node-postgres sends a query by default).`,
    `- Filtered list: \`category=${params.category.slug}${params.minPrice ? `&min_price=${params.minPrice}&max_price=${params.maxPrice}` : ''}&in_stock=true&ordering=price\` (${params.category.matching.toLocaleString('en-US')} matching products); search \`${SEARCH}\` matches ${params.searchMatches.toLocaleString('en-US')} products.`,
    deepWalk.seconds ? `- Page ${DEEP_PAGE} was reached by following \`next\` ${DEEP_PAGE - 1} times (${deepWalk.seconds.toFixed(1)} s, one request at a time).` : '',
    '',
    '## HTTP',
    '',
    summary,
    '',
    ...(baseline && comparison
      ? [
          `## Side by side with ${baseline.label}`,
          '',
          `- new: this checkout, \`${ROOT}\` (${describeCheckout(ROOT)}), the build measured above; old: \`${baseline.dir}\` (${describeCheckout(baseline.dir)}).`,
          `- Both API servers: \`node dist/src/main.js\` with the same node binary and the same env (NODE_ENV=production, the same database and JWT_SECRET, response validation off, LOG_LEVEL=warn, pool of 10), one process each, both running during the whole run; each scenario is measured on both in the same rounds, back to back (old then new in odd rounds, new then old in even rounds${ROUNDS % 2 ? `: with ${ROUNDS} rounds, old goes first once more` : ''}), after a warm-up of each.`,
          `- Page ${DEEP_PAGE}: ${oldCursor}.`,
          '- new/old: req/s of the new build over the old one (above 1: the new build is faster), over all rounds, then in each round (their spread is the noise of this run).',
          '',
          comparison,
          '',
        ]
      : []),
    '## Raw SQL of (a) with pgbench',
    '',
    sql
      ? ['| Protocol | tps | latency avg ms | Notes |', '| --- | ---: | ---: | --- |', ...sql.results.map((r) => `| ${r.mode} | ${fmt(r.tps)} | ${fmt(r.latency, 2)} | ${r.note ?? ''} |`)].join('\n')
      : 'skipped (--skip-pgbench)',
    '',
    '`simple` and `extended` plan every execution with its values (node-postgres, and so MikroORM, send unnamed',
    'statements: always a custom plan); `prepared` reuses a named statement, which switches to a generic plan after',
    'five executions when the generic plan looks no more expensive.',
    ...(sql?.custom ? ['', '### Custom plan', '', '```', sql.custom, '```', '', '### Generic plan', '', '```', sql.generic, '```'] : []),
    '',
  ]
    .filter((l) => l !== undefined)
    .join('\n');
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, md);
  if (!opts['no-readme']) fillReadme(summary, now, machine);
  console.log(`\n${summary}\n`);
  if (baseline && comparison) console.log(`Side by side with ${baseline.label} (new/old above 1: the new build is faster):\n\n${comparison}\n`);
  if (sql) for (const r of sql.results) console.log(`pgbench -M ${r.mode}: ${r.tps ? `${fmt(r.tps)} tps, ${fmt(r.latency, 2)} ms` : r.note}`);
  console.log(`\nWritten to ${shown(RESULTS)}`);
}

/** Replaces the table between the README's bench markers. */
function fillReadme(summary: string, when: Date, machine: string): void {
  const file = join(ROOT, 'README.md');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return;
  const details = isAbsolute(shown(RESULTS)) ? `\`${RESULTS}\`` : `[${shown(RESULTS)}](${shown(RESULTS)})`;
  const block = `${start}\nMeasured ${when.toISOString().slice(0, 10)} on ${machine}, Node ${process.version} (details: ${details}):\n\n${summary}\n`;
  writeFileSync(file, text.slice(0, from) + block + text.slice(to));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
