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
 * 3. Measures each scenario with autocannon (32 connections, a warm-up, then ~12 s): (a) the filtered
 *    list, (b) the same at cursor page 1,000, (c) the search mix (bench/search-mix.ts: a few hundred
 *    searches from the catalog's vocabulary, one- and multi-word, brands, typos, with and without a
 *    category filter, drawn with a Zipf skew; each is sent once first, and results.md says how many
 *    find something) and (c1) one full-text search, (d) product detail over many ids, (g) the GraphQL
 *    `products` query of (a)'s page, facets (h1) of a department and (h2) of a search, as cached by the
 *    API, and (h3), (h4) the same with a new cache key per request; the bare baseline: (e) (a)'s SQL,
 *    (e2) its page 1,000, (e3) unnamed, (e4) the API's detail statement over (d)'s ids; and (f) the
 *    API root (the stack without the database). "vs bare" compares with (e), and (d) with (e4).
 *    An endpoint the server does not have yet is reported as "endpoint not available".
 *    While the measured rounds run, the API process's resident memory (VmRSS) is sampled every
 *    250 ms (bench/rss.ts): its peak, and its value at the end of the run, per build.
 *    With `--baseline`, every API scenario ((a) to (d), (f) to (h4)) is measured on both servers in the same
 *    rounds, back to back, so the noise of a shared machine weighs on both alike: old then new in odd
 *    rounds, new then old in even rounds (the second of a pair tends to gain a few % on the database
 *    scenarios: use an even --rounds). Page 1,000 uses the same cursor on both when the baseline
 *    answers it with the same page, else the cursors are walked on each server.
 * 4. Measures the raw SQL of the filtered list with pgbench (simple, extended and prepared
 *    protocols: the prepared one shows what a generic plan does), if pgbench is installed.
 * 5. Writes the results (bench/results.md, or --results FILE; with --baseline, a section "Side by
 *    side with <label>": req/s, p50, p99 of both builds and new/old, overall and per round; the
 *    memory; a "Targets" table checking issue 17's targets on this run: (a) and (b) against the bare
 *    (e) and (e2), (d) against (e4), the search mix and GraphQL against (a), RSS, facets p99, and with
 *    --compare-results the search mix at 1M against 100k), fills the table of the README's
 *    "Benchmark" section (the current build's; not with --no-readme), prints a summary.
 *
 * Options: --products N (1000000) --seed S (1) --database-url URL --connections C (32)
 *          --duration SEC (12, split into --rounds 3 interleaved rounds) --warmup SEC (3)
 *          --reseed --skip-build --skip-pgbench --no-readme
 *          --results FILE (bench/results.md; a relative path is from the current directory, which
 *            `npm run` sets to the project root)
 *          --baseline DIR (side by side with DIR's build) --baseline-label TEXT (default: DIR's git
 *            short commit, else DIR's directory name)
 *          --compare-results FILE (a results file of this script at the other catalog size: the target
 *            "search mix at 1M ≥ 50% of the mix at 100k" compares its (c) row with this run's)
 *
 * Side by side, e.g. this checkout against another commit checked out and built in /tmp/bench-old
 * (git worktree add --detach /tmp/bench-old COMMIT && cd /tmp/bench-old && npm ci && npm run build):
 *   npm run bench -- --products 100000 --database-url postgresql://postgres@127.0.0.1:5432/ecom_bench_100k \
 *     --baseline /tmp/bench-old --rounds 4 --duration 16 --no-readme --results bench/results-issue-11.md
 * (the same without --products and --database-url: the 1,000,000-product `ecom_bench`, the only
 * one deep enough for page 1,000). With the same code on both sides, new/old stays within about
 * ±1% overall and ±8% per round on this machine: the noise floor.
 *
 * Both sizes' targets, e.g. the 100k run first, then the 1M run compared with it:
 *   npm run bench -- --products 100000 --database-url postgresql://postgres@127.0.0.1:5432/ecom_bench_100k \
 *     --no-readme --results bench/results-100k.md
 *   npm run bench -- --compare-results bench/results-100k.md
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
  serverNodeFlags,
  stopChild,
  waitFor,
  withClient,
} from './harness';
import { type RssPeak, RssSampler } from './rss';
import { describeMix, MIX_KINDS, type SearchKind, type SearchMix, searchMix } from './search-mix';

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
    'compare-results': { type: 'string' },
  },
});
const PRODUCTS = Number(opts.products.replace(/_/g, ''));
const CONNECTIONS = Number(opts.connections);
const DURATION = Number(opts.duration);
const WARMUP = Number(opts.warmup);
const ROUNDS = Math.max(1, Number(opts.rounds));
const RESULTS = opts.results ? resolve(opts.results) : join(__dirname, 'results.md');
const COMPARE = opts['compare-results'] ? resolve(opts['compare-results']) : undefined;

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

/** Per kind of the search mix: distinct searches, those answering no product, those not answering 200. */
type MixCheck = Record<SearchKind, { searches: number; empty: number; failed: number }>;

/** Sends every distinct search of the mix once (4 at a time) to the server at `base`: what they answer. */
async function checkMix(base: string, mix: SearchMix): Promise<MixCheck> {
  const check = Object.fromEntries((Object.keys(MIX_KINDS) as SearchKind[]).map((k) => [k, { searches: 0, empty: 0, failed: 0 }])) as MixCheck;
  const queue = [...mix.requests];
  const worker = async () => {
    for (let req = queue.shift(); req; req = queue.shift()) {
      const c = check[req.query.kind];
      c.searches++;
      try {
        const res = await fetch(base + req.path);
        const body = (await res.json()) as { results?: unknown[] };
        if (res.status !== 200) c.failed++;
        else if (!body.results?.length) c.empty++;
      } catch {
        c.failed++;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return check;
}

/** How many of the mix's typos full-text search finds nothing for (so the API falls back to trigram similarity on names). */
async function typosWithoutFullText(url: string, mix: SearchMix): Promise<{ typos: number; none: number }> {
  const typos = mix.queries.filter((q) => q.kind === 'typo');
  return withClient(url, async (c) => {
    let none = 0;
    for (const q of typos) {
      const { rows } = await c.query<{ found: boolean }>(
        `select exists (select 1 from products p where p.is_active and p.search_vector @@ websearch_to_tsquery('english', $1)) as found`,
        [q.text],
      );
      if (!rows[0]?.found) none++;
    }
    return { typos: typos.length, none };
  });
}

/** The GraphQL document of (g): (a)'s filters, ordering and page size, selecting the fields of a REST list item. */
const GRAPHQL_PRODUCTS = `query BenchProducts($filter: ProductFilter, $first: Int) {
  products(filter: $filter, ordering: PRICE, first: $first) {
    edges { node { id name slug brand category { id } vendor price price_range { min max } currency stock in_stock rating { average count } image is_active created_at } }
    pageInfo { hasNextPage endCursor }
  }
}`;

function graphqlProductsBody(p: Params): string {
  const filter = { category: p.category.slug, min_price: p.minPrice, max_price: p.maxPrice, in_stock: true };
  return JSON.stringify({ operationName: 'BenchProducts', query: GRAPHQL_PRODUCTS, variables: { filter, first: PAGE } });
}

/** A GraphQL answer without errors holding a page of products. */
const isGraphqlProducts = (b: unknown) => {
  const answer = b as { data?: { products?: { edges?: unknown[] } }; errors?: unknown } | null;
  return typeof answer === 'object' && answer !== null && !answer.errors && Array.isArray(answer.data?.products?.edges) && answer.data.products.edges.length > 0;
};

const isFacets = (b: unknown) => typeof b === 'object' && b !== null && 'total' in b;

/**
 * The facets are cached for 30 s per set of filters (DiscoveryService.facets): a scenario repeating
 * one request measures the cache. These give each request its own cache key for the same work.
 * Distinct max_price values above every price (the products they match do not change), the
 * highest first:
 */
const FACET_KEYS = 20_000;
const noOpMaxPrices = () => Array.from({ length: FACET_KEYS }, (_, i) => ((10_000_000 - i) / 100).toFixed(2));

/** Spellings of `text` differing in letter case only (full text and trigram matching ignore it; the cache's key does not). */
function caseVariants(text: string): string[] {
  const letters = [...text].flatMap((ch, i) => (/[a-z]/i.test(ch) ? [i] : []));
  if (2 ** letters.length < FACET_KEYS) throw new Error(`"${text}" has too few letters for ${FACET_KEYS} spellings`);
  return Array.from({ length: FACET_KEYS }, (_, n) => {
    const chars = [...text.toLowerCase()];
    letters.forEach((at, bit) => {
      if ((n >> bit) & 1) chars[at] = chars[at]?.toUpperCase() ?? '';
    });
    return chars.join('');
  });
}

const MB = 1_000_000 / 2 ** 20;
/** MiB, as MiB and MB (the target is in MB). */
const mib = (v: number | undefined) => (v === undefined ? '-' : `${fmt(v)} MiB (${fmt(v / MB)} MB)`);

function describeRss(label: string, p: RssPeak | undefined): string {
  if (!p?.samples) return `${label}: not sampled (no /proc/<pid>/status on this system)`;
  return `${label}: peak ${mib(p.peak)} during ${p.during ?? '-'}; ${mib(p.last)} at the end of the run (${p.samples.toLocaleString('en-US')} samples)`;
}

/** The search mix's req/s and catalog size in another results file of this script. */
function otherRun(file: string): { products: number; mixRps: number } | string {
  if (!existsSync(file)) return `${shown(file)} does not exist`;
  const text = readFileSync(file, 'utf8');
  const products = /^- Catalog: ([\d,]+) products/m.exec(text)?.[1];
  const rps = /^\| \(c\) search mix[^|]*\| ([\d,.]+) \|/m.exec(text)?.[1];
  if (!products || !rps) return `${shown(file)} has no catalog size or search mix row`;
  return { products: Number(products.replace(/,/g, '')), mixRps: Number(rps.replace(/,/g, '')) };
}

/** The targets of issue 17, checked on this build's rows of this run. */
function targets(rows: Measured[], rss: RssPeak | undefined): string {
  const row = (key: string) => rows.find((r) => r.key === key);
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${fmt(v)} ms`);
  const yes = (ok: boolean | undefined) => (ok === undefined ? '-' : ok ? 'yes' : 'no');
  const lines = ['| Target | measured | met? |', '| --- | --- | --- |'];
  const throughputAndTail = (target: string, key: string, ref: string, minShare: number, maxTail: number) => {
    const [r, b] = [row(key), row(ref)];
    const ratio = share(r, b);
    const tail = r?.p99 !== undefined && b?.p99 ? r.p99 / b.p99 : undefined;
    const measured = ratio === undefined ? '-' : `${percent(ratio)} of (${ref})'s req/s; p99 ${ms(r?.p99)} = ${tail === undefined ? '-' : fmt(tail, 2)}× (${ref})'s ${ms(b?.p99)}`;
    const met = ratio === undefined || tail === undefined ? undefined : ratio >= minShare && tail <= maxTail;
    lines.push(`| ${target} | ${measured} | ${yes(met)} |`);
  };
  const throughput = (target: string, key: string, ref: string, minShare: number) => {
    const ratio = share(row(key), row(ref));
    lines.push(`| ${target} | ${ratio === undefined ? '-' : `${percent(ratio)} of (${ref})'s req/s`} | ${yes(ratio === undefined ? undefined : ratio >= minShare)} |`);
  };
  throughputAndTail('(a) filtered list ≥ 90% of bare (e) req/s, p99 ≤ 1.3× (e)\'s', 'a', 'e', 0.9, 1.3);
  throughputAndTail(`(b) page ${DEEP_PAGE} ≥ 90% of bare (e2) req/s, p99 ≤ 1.3× (e2)'s`, 'b', 'e2', 0.9, 1.3);
  throughput('(d) product detail ≥ 95% of bare detail (e4) req/s', 'd', 'e4', 0.95);
  throughputAndTail('(c) search mix ≥ 60% of (a) req/s, p99 ≤ 2× (a)\'s (the issue: at 1M products)', 'c', 'a', 0.6, 2);
  throughput('(g) GraphQL products ≥ 80% of REST (a) req/s', 'g', 'a', 0.8);
  lines.push(`| RSS of the API process under load ≤ 250 MB | ${rss?.samples ? `peak ${mib(rss.peak)}` : 'not sampled'} | ${yes(rss?.peak === undefined ? undefined : rss.peak / MB <= 250)} |`);
  const facets = ['h1', 'h2', 'h3', 'h4'].map((k) => row(k)).filter((r): r is Measured => r !== undefined);
  lines.push(`| Facets p99 reported | ${facets.map((r) => `(${r.key}) ${ms(r.p99)}`).join(', ') || '-'} (cached: h1, h2; computed: h3, h4) | ${facets.some((r) => r.p99 !== undefined) ? 'reported' : '-'} |`);
  const mix = row('c');
  const cross = '(c) search mix at 1M products ≥ 50% of the same mix at 100k';
  if (!COMPARE) lines.push(`| ${cross} | needs the other size's run (--compare-results FILE) | - |`);
  else {
    const other = otherRun(COMPARE);
    if (typeof other === 'string') lines.push(`| ${cross} | ${other} | - |`);
    else if (mix?.rps === undefined || other.products === PRODUCTS) {
      lines.push(`| ${cross} | ${mix?.rps === undefined ? 'no search mix in this run' : `both runs have ${PRODUCTS.toLocaleString('en-US')} products`} (${shown(COMPARE)}) | - |`);
    } else {
      const [big, small] = PRODUCTS > other.products ? [mix.rps, other.mixRps] : [other.mixRps, mix.rps];
      const sizes = PRODUCTS > other.products ? [PRODUCTS, other.products] : [other.products, PRODUCTS];
      const ratio = big / small;
      lines.push(
        `| ${cross} | ${percent(ratio)}: ${fmt(big)} req/s at ${sizes[0]?.toLocaleString('en-US')}, ${fmt(small)} at ${sizes[1]?.toLocaleString('en-US')} (${shown(COMPARE)}) | ${yes(ratio >= 0.5)} |`,
      );
    }
  }
  return lines.join('\n');
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

/** The bare row a row's "vs bare" compares with: (e), the same SQL as (a), except where a bare row does the same work. */
const BARE_OF: Record<string, string> = { d: 'e4' };
/** The bare rows that are the 100% of others. */
const BASELINES: Record<string, string> = { e: 'baseline', e4: 'baseline of (d)' };
/** Rows whose notes give their req/s as a share of (a) in the same run (the targets compare them with it). */
const VS_LIST = new Set(['c', 'c1', 'g']);

const percent = (x: number) => `${Math.round(x * 100)}%`;
const share = (r: Measured | undefined, of: Measured | undefined) => (r?.rps !== undefined && of?.rps ? r.rps / of.rps : undefined);

/** `r`'s req/s against its bare row among `bares` (this build's rows of this run). */
function vsBare(r: Measured, bares: Measured[]): string {
  const base = BASELINES[r.key];
  if (base) return base;
  const ratio = share(r, bares.find((b) => b.key === (BARE_OF[r.key] ?? 'e')));
  return ratio === undefined ? '-' : percent(ratio);
}

/** The row's notes, with its req/s as a share of (a)'s in `rows` where the targets compare them. */
function notesWithList(r: Measured, rows: Measured[]): string {
  const ratio = VS_LIST.has(r.key) ? share(r, rows.find((a) => a.key === 'a' && a.variant === r.variant)) : undefined;
  return [ratio === undefined ? '' : `${percent(ratio)} of (a)`, notesOf(r)].filter(Boolean).join('; ');
}

/** The server's CPU milliseconds per answered request over the measured rounds (from /proc), when metered. */
function cpuPerRequest(r: Measured): number | undefined {
  const cpu = r.usage?.cpu;
  return cpu !== undefined && r.requests ? (cpu * 1000) / r.requests : undefined;
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, clock ticks of 1/100 s), or undefined. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function table(rows: Measured[]): string {
  const lines = ['| Scenario | req/s | p50 ms | p99 ms | vs bare | server CPU ms/req | Notes |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${vsBare(r, rows)} | ${fmt(cpuPerRequest(r), 3)} | ${notesWithList(r, rows)} |`);
  }
  return lines.join('\n');
}

/** Each API scenario on this build (new) beside the --baseline build (old), with new/old over all rounds and per round. */
function sideBySide(rows: Measured[]): string {
  const bares = rows.filter((r) => r.bare);
  const lines = [
    '| Scenario | new req/s | new p50 ms | new p99 ms | new vs bare | old req/s | old p50 ms | old p99 ms | new/old req/s | new/old per round | CPU ms/req new / old | Notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
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
    const [newNotes, oldNotes] = [notesWithList(cur, rows), notesWithList(old, rows)];
    const notes = [newNotes && `new: ${newNotes}`, oldNotes && `old: ${oldNotes}`].filter(Boolean).join('; ');
    lines.push(
      `| ${old.name} | ${fmt(cur.rps)} | ${fmt(cur.p50)} | ${fmt(cur.p99)} | ${vsBare(cur, bares)} | ${fmt(old.rps)} | ${fmt(old.p50)} | ${fmt(old.p99)} | ${ratio} | ${perRound} | ${fmt(cpuPerRequest(cur), 3)} / ${fmt(cpuPerRequest(old), 3)} | ${notes} |`,
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
  // The facets of the department (a) lists a category of.
  const department = await withClient(url, async (c) =>
    firstRow((await c.query<{ slug: string }>('select d.slug from categories c join categories d on d.id = c.path[1] where c.id = $1', [params.category.id])).rows, 'the department of (a)').slug,
  );
  const mix = searchMix();
  const typos = await typosWithoutFullText(url, mix);

  if (!opts['skip-build']) buildApp();
  const [loadBefore = 0] = loadavg();
  const [apiPort, barePort] = [await freePort(), await freePort()];
  const oldPort = baseline ? await freePort() : undefined;
  const jwtSecret = randomBytes(32).toString('base64url');
  // Both API servers get this env: the same JWT_SECRET, so a cursor signed by one is valid on the other.
  const apiEnv = (port: number) => apiServerEnv({ port, databaseUrl: url, secret: jwtSecret });
  const startApi = (cwd: string, port: number) =>
    spawn(process.execPath, [...serverNodeFlags(cwd), 'dist/src/main.js'], { cwd, env: apiEnv(port), stdio: ['ignore', 'inherit', 'inherit'] });
  let api: ChildProcess | undefined;
  let old: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  const measured: Measured[] = [];
  let deepWalk: DeepWalk;
  let oldDeepWalk: DeepWalk = {};
  let mixCheck: MixCheck | undefined;
  let rss: Map<string, RssPeak> | undefined;
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
    log(`search mix: sending each of its ${mix.requests.length} searches once`);
    mixCheck = await checkMix(apiBase, mix);
    type Target = (typeof builds)[number];
    const onApi = (
      key: string,
      name: string,
      paths: (b: Target) => string[],
      shape: (body: unknown) => boolean,
      unavailable?: (b: Target) => string | undefined,
      request?: Pick<Scenario, 'method' | 'body' | 'headers'>,
    ): Scenario[] => builds.map((b) => ({ key, name, base: b.base, next: cycle(paths(b)), shape, variant: b.build, unavailable: unavailable?.(b), ...request }));
    const onBare = (key: string, name: string, paths: string[], o: { isBare?: boolean; shape?: (body: unknown) => boolean } = {}): Scenario => ({
      key, name, base: bareBase, next: cycle(paths), shape: o.shape ?? isList, bare: o.isBare,
    });
    const graphql = { method: 'POST' as const, body: graphqlProductsBody(params), headers: { 'content-type': 'application/json' } };
    const scenarios: Scenario[] = [
      ...onApi('a', '(a) filtered list: category + price range + in stock, by price', () => [list], isList),
      ...onApi('b', `(b) the same at cursor page ${DEEP_PAGE}`, (b) => [b.deep.path ?? list], isList, (b) => (b.deep.path ? undefined : (b.deep.note ?? 'no cursor'))),
      ...onApi('c', `(c) search mix: ${mix.requests.length} searches, Zipf s = ${mix.skew}`, () => mix.paths, isList),
      ...onApi('c1', `(c1) full-text search "${SEARCH}"`, () => [`/api/product/?${new URLSearchParams({ search: SEARCH, ordering: 'relevance' })}`], isList),
      ...onApi('d', `(d) product detail (${params.detailIds.length.toLocaleString('en-US')} ids)`, () => params.detailIds.map((id) => `/api/product/${id}/`), isObject),
      ...onApi('g', '(g) GraphQL products, the same page as (a)', () => ['/graphql/'], isGraphqlProducts, undefined, graphql),
      ...onApi('h1', `(h1) facets of the department ${department}`, () => [`/api/product/facets/?${new URLSearchParams({ category: department })}`], isFacets),
      ...onApi('h2', `(h2) facets of the search "${SEARCH}"`, () => [`/api/product/facets/?${new URLSearchParams({ search: SEARCH })}`], isFacets),
      ...onApi('h3', '(h3) the same as (h1), never cached (max_price varies above every price)', () => noOpMaxPrices().map((max) => `/api/product/facets/?${new URLSearchParams({ category: department, max_price: max })}`), isFacets),
      ...onApi('h4', '(h4) the same as (h2), never cached (the letter case of the search varies)', () => caseVariants(SEARCH).map((q) => `/api/product/facets/?${new URLSearchParams({ search: q })}`), isFacets),
      onBare('e', '(e) bare http + pg, same SQL as (a)', [bareList], { isBare: true }),
      ...(after ? [onBare('e2', `(e2) bare, page ${DEEP_PAGE} (keyset)`, [`${bareList}&after=${encodeURIComponent(after)}`])] : []),
      onBare('e3', '(e3) bare, (a) as an unnamed statement (planned every time)', [`${bareList}&unnamed=1`]),
      onBare('e4', '(e4) bare detail, same statement and ids as (d)', params.detailIds.map((id) => `/products/${id}`), { isBare: true, shape: isObject }),
      ...onApi('f', '(f) API root GET /api/ (the stack, no database)', () => ['/api/'], (b) => typeof b === 'object' && b !== null),
    ];
    // RSS of the API process(es), sampled while a measured round loads them.
    const sampler = new RssSampler({ new: api.pid, ...(old ? { old: old.pid } : {}) });
    const loaded = (sc: Scenario) => (sc.base === apiBase ? ['new'] : sc.base === oldBase ? ['old'] : []);
    // CPU seconds of the server answering the scenario (the API build's or the bare one's process):
    // per request, the cost of each server that the other work on a shared machine does not skew.
    const serving = (sc: Scenario) => (sc.base === apiBase ? api : sc.base === oldBase ? old : sc.base === bareBase ? bare : undefined)?.pid;
    const meter = (sc: Scenario) => {
      const stop = sampler.start(`${sc.name.split(' ')[0]}${sc.variant ? ` [${sc.variant}]` : ''}`, loaded(sc));
      const pid = serving(sc);
      const before = pid === undefined ? undefined : cpuSecondsOf(pid);
      return (): Record<string, number> => {
        stop();
        const after = pid === undefined ? undefined : cpuSecondsOf(pid);
        return before !== undefined && after !== undefined ? { cpu: after - before } : {};
      };
    };
    const watcher = await drainWatcher([url]);
    try {
      measured.push(...(await measureAll(scenarios, { connections: CONNECTIONS, warmup: WARMUP, duration: DURATION, rounds: ROUNDS, drained: watcher.drained, meter })));
    } finally {
      rss = sampler.stop();
      await watcher.close();
    }
  } finally {
    await Promise.all([stopChild(api), stopChild(old), stopChild(bare)]);
  }

  const sql = opts['skip-pgbench'] ? undefined : pgbench(url, params);
  const current = measured.filter((m) => m.variant !== 'old');
  const pg = await withClient(url, async (c) => firstRow((await c.query<{ server_version: string }>('show server_version')).rows, 'the server version').server_version);
  const now = new Date();
  const summary = table(current);
  const comparison = baseline ? sideBySide(measured) : undefined;
  const checked = mixCheck
    ? (Object.entries(mixCheck) as [SearchKind, MixCheck[SearchKind]][])
        .map(([k, c]) => `${k} ${c.searches - c.empty - c.failed}/${c.searches}${c.failed ? ` (${c.failed} not 200)` : ''}`)
        .join(', ')
    : '-';
  const memory = [describeRss(baseline ? 'this build (new)' : 'this build', rss?.get('new')), ...(baseline ? [describeRss(`${baseline.label} (old)`, rss?.get('old'))] : [])];
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
    `- Search mix (c), bench/search-mix.ts: ${describeMix(mix).join(' ')} Sent once each before the load, the searches answering at least one product, per kind: ${checked}; full text finds nothing for ${typos.none} of the ${typos.typos} typos (the API then falls back to trigram similarity on names).`,
    `- (g): POST /graphql/ \`products(filter: {category, min_price, max_price, in_stock: true}, ordering: PRICE, first: ${PAGE})\` selecting a REST list item's fields (its \`category { id }\` comes from the product row, as REST's \`category\` does) and \`pageInfo { hasNextPage endCursor }\`; "of (a)": req/s as a share of (a)'s in this run.`,
    `- (h1), (h2): \`GET /api/product/facets/?category=${department}\` (the department of (a)'s category) and \`?search=${SEARCH}\`. The API caches facets for 30 s per set of filters, so these two measure its cache; (h3) and (h4) ask for the same facets with a new cache key each time (${FACET_KEYS.toLocaleString('en-US')} keys in a cycle: \`max_price\` from ${noOpMaxPrices().at(-1)} to ${noOpMaxPrices()[0]}, above every price, or the search's letter case) and measure the counting itself.`,
    '- vs bare: req/s as a share of (e)\'s, except (d): of (e4), the bare server running the API\'s detail statement (named, prepared) over the same ids and answering its row as JSON.',
    '',
    '## HTTP',
    '',
    summary,
    '',
    '## Memory',
    '',
    'Resident memory (VmRSS) of the API server process, sampled every 250 ms during the measured rounds of its scenarios (not warm-ups):',
    '',
    ...memory.map((m) => `- ${m}`),
    '',
    `## Targets (issue 17), at ${PRODUCTS.toLocaleString('en-US')} products`,
    '',
    'Computed from this build\'s rows above. The issue sets the search targets at 1,000,000 products, the others at both 100,000 and 1,000,000.',
    '',
    targets(current, rss?.get('new')),
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
  for (const m of memory) console.log(`RSS ${m}`);
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
