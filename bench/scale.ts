/**
 * `npm run bench:scale`: the scale-out pieces measured side by side in one run (not a test).
 *
 * 1. Starts a PostgreSQL primary of its own (not the machine's server) from the machine's binaries
 *    (`pg_config --bindir`) in a temporary folder, on free ports of 127.0.0.1, as the `postgres` OS
 *    user when run as root (PostgreSQL refuses root); creates the database, migrates and seeds it
 *    (--products, 100,000 by default), then copies it with `pg_basebackup -R` and starts the copy as
 *    a streaming replica (in sync from its first second), and PgBouncer in transaction mode in front
 *    of the primary (test/support/pgbouncer.ts, the settings the tests and docs/scaling.md use).
 * 2. Builds the app and starts one API server (`node dist/src/main.js`, NODE_ENV=production,
 *    response validation off, LOG_LEVEL=warn, the default pools) per setup, all of them running for
 *    the whole run:
 *      one         1 web process on the primary, prepared statements on: the reference
 *      two         WEB_CONCURRENCY=2 (node:cluster), on the primary
 *      replica     1 process, DATABASE_REPLICA_URLS=<the replica>: catalog reads go there
 *      unprepared  1 process on the primary, DATABASE_PREPARED_STATEMENTS=false
 *      pgbouncer   1 process through PgBouncer, DATABASE_POOLER=pgbouncer,
 *                  DATABASE_PREPARED_STATEMENTS=false
 * 3. Measures the filtered list (a) and product detail (d) on every setup, and the API root (f: the
 *    stack without the database) on one and two, with autocannon in interleaved rounds (each
 *    scenario on every setup back to back, the order rotated each round: bench/harness.ts), and
 *    the CPU time each process group used during each round, from /proc: the web server (a process
 *    and its cluster workers), each PostgreSQL server (its postmaster and every backend), PgBouncer,
 *    the load generator (this process) and the whole machine (/proc/stat; "other" is what none of
 *    those used: other work on a shared machine).
 * 4. Writes the tables to bench/results-scale.md (--results FILE) and prints them.
 * Every process it started is stopped and the temporary folder deleted at the end, on an error and
 * on Ctrl-C.
 *
 * Options: --products N (100000) --seed S (1) --connections C (32) --duration SEC (12, split into
 *          --rounds 3 interleaved rounds) --warmup SEC (3) --skip-build
 *          --results FILE (bench/results-scale.md; relative to the current directory, which
 *            `npm run` sets to the project root)
 * The run in docs/scaling.md ("Scale-out, measured"):
 *   npm run bench:scale -- --products 100000 --rounds 6 --duration 36
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../src/db/embedded';
import { startPgBouncer } from '../test/support/pgbouncer';
import {
  apiServerEnv,
  buildApp,
  cycle,
  describeCheckout,
  describeMachine,
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
  readJson,
  ROOT,
  type Scenario,
  scenarioParams,
  seedOrReuse,
  serverNodeFlags,
  stopChild,
  waitFor,
  withClient,
} from './harness';

const { values: opts } = parseArgs({
  options: {
    products: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'skip-build': { type: 'boolean', default: false },
    results: { type: 'string' },
  },
});
const PRODUCTS = Number(opts.products.replace(/_/g, ''));
const CONNECTIONS = Number(opts.connections);
const DURATION = Number(opts.duration);
const WARMUP = Number(opts.warmup);
const ROUNDS = Math.max(1, Number(opts.rounds));
const RESULTS = opts.results ? resolve(opts.results) : join(__dirname, 'results-scale.md');
const DATABASE = 'ecom_scale';
const CORES = cpus().length;
const ROOT_USER = process.getuid?.() === 0;

// --- Teardown: everything started is registered here, stopped in reverse order -------------------

interface Resource {
  name: string;
  /** The orderly stop (awaited at the end, on an error, on Ctrl-C). */
  stop: () => Promise<void>;
  /** What is left to do synchronously when the process exits without the orderly stop. */
  kill: () => void;
  done?: boolean;
}

const resources: Resource[] = [];
const own = (r: Resource) => resources.push(r);

async function teardown(): Promise<void> {
  for (const r of [...resources].reverse()) {
    if (r.done) continue;
    r.done = true;
    try {
      await r.stop();
    } catch (err) {
      log(`stopping ${r.name}: ${(err as Error).message}`);
    }
  }
}

process.once('exit', () => {
  for (const r of [...resources].reverse()) {
    if (r.done) continue;
    r.done = true;
    try {
      r.kill();
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    void teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

// --- /proc: CPU time of process trees -------------------------------------------------------------

const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface Proc {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks: its own CPU and that of its children already reaped. */
  ticks: number;
  /** cutime + cstime: the part from children reaped. */
  reaped: number;
  comm: string;
}

/** One process's /proc/<pid>/stat, or undefined once it is gone. */
function readProc(pid: number | string): Proc | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // The command name sits in parentheses and may hold spaces: the fields after it, from field 3.
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17), reaped: n(16) + n(17), comm: stat.slice(stat.indexOf('(') + 1, close) };
}

/** Every process of the machine. */
function processes(): Map<number, Proc> {
  const all = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(name);
    if (p) all.set(Number(name), p);
  }
  return all;
}

/**
 * Every process, read while none of the `roots` reaped a child: a child reaped between the reading
 * of its parent and its own would count nowhere (or twice), and a busy backend leaving (a pool
 * closing an idle connection) takes many seconds of CPU with it. Tried again until the roots'
 * reaped times stay put across the scan (at most 5 times).
 */
function steadyProcesses(roots: (number | undefined)[]): Map<number, Proc> {
  for (let attempt = 1; ; attempt++) {
    const before = roots.map((pid) => (pid === undefined ? 0 : (readProc(pid)?.reaped ?? 0)));
    const all = processes();
    const after = roots.map((pid) => (pid === undefined ? 0 : (readProc(pid)?.reaped ?? 0)));
    if (attempt >= 5 || before.every((v, i) => v === after[i])) return all;
  }
}

/** A process and its descendants. */
function tree(all: Map<number, Proc>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, p] of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const out: number[] = [];
  const queue = all.has(root) ? [root] : [];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds of a process tree. A process that ended between two readings has its time counted
 * in its parent's cutime/cstime once reaped (a PostgreSQL backend by the postmaster, a cluster
 * worker by the primary), so the difference of two readings stays whole.
 */
const treeSeconds = (all: Map<number, Proc>, root: number) => tree(all, root).reduce((t, pid) => t + (all.get(pid)?.ticks ?? 0), 0) / TICK;

/** Busy CPU seconds of the whole machine (every core), from /proc/stat. */
function machineSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICK;
}

/** Sends SIGKILL to a process tree (the last resort, at exit). */
function killTree(root: number): void {
  for (const pid of tree(processes(), root).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// --- PostgreSQL primary, replica, PgBouncer --------------------------------------------------------

const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
const serverUser = ROOT_USER
  ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
  : undefined;

/** Runs a PostgreSQL program (as `postgres` when this process is root); its output on failure. */
function pgRun(program: string, args: string[]): void {
  const [command, argv] = ROOT_USER ? ['runuser', ['-u', 'postgres', '--', join(bindir, program), ...args]] : [join(bindir, program), args];
  const run = spawnSync(command, argv, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${program} ${args.join(' ')} failed:\n${run.stderr || run.stdout}`);
}

interface PgServer {
  name: string;
  port: number;
  data: string;
  url(database?: string): string;
  /** The postmaster's pid (its backends are its children). */
  pid(): number | undefined;
}

function pgServer(name: string, data: string, port: number): PgServer {
  const server: PgServer = {
    name,
    port,
    data,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    pid() {
      try {
        return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return undefined;
      }
    },
  };
  // Durability is not measured here: no fsync keeps the seed and the checkpoints quick. Every setup
  // runs at once and holds its own pools (up to 10 + 10 per process): room for all of them.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300`;
  pgRun('pg_ctl', ['-D', data, '-w', '-t', '120', '-l', join(dirname(data), `${name}.log`), '-o', options, 'start']);
  own({
    name: `PostgreSQL ${name}`,
    stop: async () => pgRun('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']),
    kill: () => pgRun('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']),
  });
  return server;
}

async function startPrimary(work: string): Promise<PgServer> {
  const data = join(work, 'primary');
  // --auth=trust: initdb's pg_hba.conf then also lets 127.0.0.1 open replication connections.
  pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  return pgServer('primary', data, await freePort());
}

/** `pg_basebackup -R` of the primary, started as its streaming replica; resolves once it has replayed everything the primary wrote. */
async function startReplica(work: string, primary: PgServer): Promise<PgServer> {
  const data = join(work, 'replica');
  pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
  const replica = pgServer('replica', data, await freePort());
  const target = await withClient(primary.url(), async (c) => firstRow((await c.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows, 'the WAL position').lsn);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const caught = await withClient(replica.url(), async (c) =>
      firstRow((await c.query<{ ok: boolean }>('select coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) as ok', [target])).rows, 'the replay position').ok,
    );
    if (caught) return replica;
    if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${target} within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Bouncer {
  version: string;
  pid(): number | undefined;
  url(database: string): string;
}

/**
 * PgBouncer in transaction mode in front of the primary, as the tests run it and docs/scaling.md
 * configures it (test/support/pgbouncer.ts: a pool of 20 per database and user, the app's timeouts
 * set by `connect_query`), or why it cannot run.
 */
async function startBouncer(primary: PgServer): Promise<Bouncer | string> {
  if (!existsSync(process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer')) return 'pgbouncer is not installed';
  const bouncer = await startPgBouncer(primary.url());
  own({ name: 'PgBouncer', stop: () => bouncer.close(), kill: () => undefined /* its own exit guard kills it */ });
  const version = (await bouncer.admin<{ version: string }>('SHOW VERSION'))[0]?.version ?? 'PgBouncer';
  return {
    version,
    url: (database) => bouncer.through(primary.url(database)),
    // It runs as a child of this process: the one named pgbouncer.
    pid: () => [...processes()].find(([, p]) => p.ppid === process.pid && p.comm === 'pgbouncer')?.[0],
  };
}

// --- The API servers --------------------------------------------------------------------------------

interface Setup {
  name: string;
  what: string;
  env: Record<string, string>;
  /** Why it cannot run (PgBouncer missing). */
  unavailable?: string;
  child?: ChildProcess;
  base?: string;
  /** Processes serving it once ready: its cluster workers, else the process itself. */
  processes?: number;
}

async function startSetup(setup: Setup, databaseUrl: string, secret: string): Promise<void> {
  if (setup.unavailable) return;
  const port = await freePort();
  const child = spawn(process.execPath, [...serverNodeFlags(ROOT), 'dist/src/main.js'], {
    cwd: ROOT,
    env: { ...apiServerEnv({ port, databaseUrl, secret }), ...setup.env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  own({
    name: `API server ${setup.name}`,
    stop: () => stopChild(child),
    kill: () => child.pid !== undefined && killTree(child.pid),
  });
  setup.child = child;
  setup.base = `http://127.0.0.1:${port}`;
  await waitFor(`${setup.base}/healthz`, child, `the API server ${setup.name}`);
}

/**
 * The processes serving a server once its workers (if any) have forked: the cluster's workers
 * (its primary only hands them connections), else the process itself.
 */
async function countWebProcesses(setup: Setup): Promise<number> {
  const pid = setup.child?.pid;
  if (pid === undefined) return 0;
  // The first worker answers /healthz before the others fork: wait for all of them (5 s at most).
  const wanted = Number(setup.env.WEB_CONCURRENCY ?? 1);
  let count = 0;
  for (let i = 0; i < 20; i++) {
    count = tree(processes(), pid).length;
    if (wanted === 1 || count - 1 >= wanted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return count > 1 ? count - 1 : count;
}

// --- The report ----------------------------------------------------------------------------------

/** CPU cores a group used on average during a row's runs (CPU seconds over the seconds the meter ran). */
const cores = (m: Measured, group: string) => (m.usage?.wall ? (m.usage[group] ?? 0) / m.usage.wall : undefined);

interface Shares {
  web: number;
  primary: number;
  replica: number;
  pgbouncer: number;
  load: number;
  other: number;
  machine: number;
}

function shares(m: Measured): Shares | undefined {
  if (!m.usage?.wall) return undefined;
  const c = (g: string) => cores(m, g) ?? 0;
  const webAll = Object.keys(m.usage).filter((k) => k.startsWith('web:')).reduce((t, k) => t + c(k), 0);
  const s = { web: c(`web:${m.variant}`), primary: c('primary'), replica: c('replica'), pgbouncer: c('pgbouncer'), load: c('load'), machine: c('machine') };
  return { ...s, other: Math.max(0, s.machine - webAll - s.primary - s.replica - s.pgbouncer - s.load) };
}

/**
 * What limits a row's figure, from where its CPU went: node when a web process runs at 0.8 core or
 * more (its JavaScript runs on one thread, so it is near its one core); else the machine when its
 * cores are 85% busy or more, with the biggest users (the setup's pieces and other work) in cores;
 * else no CPU (the requests wait on something else: round trips through a pool of 10).
 */
function limit(m: Measured, processCount: number): string {
  const s = shares(m);
  if (!s) return '-';
  const perProcess = s.web / Math.max(1, processCount);
  if (perProcess >= 0.8) return `node: ${processCount > 1 ? 'each web process' : 'the web process'} at ${fmt(perProcess, 2)} core`;
  const busy = s.machine / CORES;
  const users = Object.entries({ node: s.web, PostgreSQL: s.primary + s.replica, PgBouncer: s.pgbouncer, 'load generator': s.load, 'other work': s.other })
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v, 2)}`)
    .join(', ');
  if (busy >= 0.85) return `the ${CORES} cores (${Math.round(busy * 100)}% busy): ${users}`;
  return `no CPU at its limit (${Math.round(busy * 100)}% busy): waits`;
}

const c2 = (v: number | undefined) => fmt(v, 2);
const ratio = (m: Measured, ref: Measured | undefined) => (m.rps !== undefined && ref?.rps ? fmt(m.rps / ref.rps, 2) : '-');

function shown(path: string): string {
  const rel = relative(ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

async function main(): Promise<void> {
  if (!Number.isInteger(PRODUCTS) || PRODUCTS < 1000) throw new Error('--products must be a whole number of at least 1000');
  const work = mkdtempSync(join(tmpdir(), 'ecom-bench-scale-'));
  if (serverUser) chownSync(work, serverUser.uid, serverUser.gid);
  own({ name: 'the temporary folder', stop: async () => rmSync(work, { recursive: true, force: true }), kill: () => rmSync(work, { recursive: true, force: true }) });
  log(`temporary folder ${work}`);

  const primary = await startPrimary(work);
  const url = primary.url(DATABASE);
  await ensureDatabase(url);
  await migrateDatabase(url);
  const seed = await seedOrReuse(url, { products: PRODUCTS, seed: Number(opts.seed) });
  const params = await scenarioParams(url);
  log('starting the replica (pg_basebackup -R of the seeded primary)');
  const replica = await startReplica(work, primary);
  const bouncer = await startBouncer(primary);
  if (typeof bouncer === 'string') log(`PgBouncer: ${bouncer}`);
  if (!opts['skip-build']) buildApp();

  const setups: Setup[] = [
    { name: 'one', what: '1 web process on the primary, prepared statements on (the reference)', env: {} },
    { name: 'two', what: '`WEB_CONCURRENCY=2`: 2 web processes (node:cluster) on the primary', env: { WEB_CONCURRENCY: '2' } },
    { name: 'replica', what: '1 web process, `DATABASE_REPLICA_URLS` = the streaming replica (catalog reads there)', env: { DATABASE_REPLICA_URLS: replica.url(DATABASE) } },
    { name: 'unprepared', what: '1 web process on the primary, `DATABASE_PREPARED_STATEMENTS=false`', env: { DATABASE_PREPARED_STATEMENTS: 'false' } },
    typeof bouncer === 'string'
      ? { name: 'pgbouncer', what: 'through PgBouncer', env: {}, unavailable: bouncer }
      : {
          name: 'pgbouncer',
          what: `1 web process through PgBouncer (transaction mode, pool of 20), \`DATABASE_POOLER=pgbouncer\`, \`DATABASE_PREPARED_STATEMENTS=false\``,
          env: { DATABASE_URL: bouncer.url(DATABASE), DATABASE_POOLER: 'pgbouncer', DATABASE_PREPARED_STATEMENTS: 'false' },
        },
  ];
  const secret = randomBytes(32).toString('base64url');
  const [loadBefore = 0] = loadavg();
  for (const s of setups) {
    log(`starting the API server "${s.name}": ${s.what}`);
    await startSetup(s, url, secret);
    s.processes = await countWebProcesses(s);
  }

  const list = `/api/product/?${listQuery(params)}`;
  const detail = params.detailIds.map((id) => `/api/product/${id}/`);
  const on = (key: string, name: string, paths: string[], shape: (b: unknown) => boolean, names: string[]): Scenario[] =>
    setups
      .filter((s) => names.includes(s.name))
      .map((s) => ({ key, name, base: s.base ?? 'http://127.0.0.1:1', next: cycle(paths), shape, variant: s.name, unavailable: s.unavailable }));
  const everywhere = setups.map((s) => s.name);
  const scenarios: Scenario[] = [
    ...on('a', '(a) filtered list', [list], isList, everywhere),
    ...on('d', `(d) product detail (${params.detailIds.length.toLocaleString('en-US')} ids)`, detail, isObject, everywhere),
    ...on('f', '(f) API root GET /api/ (no database)', ['/api/'], (b) => typeof b === 'object' && b !== null, ['one', 'two']),
  ];

  // The meter: CPU seconds of each group during one measured round.
  const groups = (): Record<string, number> => {
    const all = steadyProcesses([primary.pid(), replica.pid(), ...setups.map((s) => s.child?.pid)]);
    const at = (pid: number | undefined) => (pid === undefined ? 0 : treeSeconds(all, pid));
    const usage = process.cpuUsage();
    return {
      primary: at(primary.pid()),
      replica: at(replica.pid()),
      pgbouncer: typeof bouncer === 'string' ? 0 : at(bouncer.pid()),
      load: (usage.user + usage.system) / 1e6,
      machine: machineSeconds(),
      ...Object.fromEntries(setups.map((s) => [`web:${s.name}`, at(s.child?.pid)])),
    };
  };
  // `wall`: the seconds between the two readings, which the CPU seconds are divided by.
  const meter = () => {
    const before: Record<string, number> = { ...groups(), wall: performance.now() / 1000 };
    return () => {
      const after = { ...groups(), wall: performance.now() / 1000 };
      return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
    };
  };
  const watcher = await drainWatcher([url, replica.url(DATABASE)]);
  let measured: Measured[];
  try {
    measured = await measureAll(scenarios, { connections: CONNECTIONS, warmup: WARMUP, duration: DURATION, rounds: ROUNDS, drained: watcher.drained, meter });
  } finally {
    await watcher.close();
  }
  const [loadAfter = 0] = loadavg();
  const pg = await withClient(url, async (c) => firstRow((await c.query<{ server_version: string }>('show server_version')).rows, 'the server version').server_version);
  await teardown();

  const md = report({ measured, setups, seed: seed.detail, params, pg, bouncer: typeof bouncer === 'string' ? bouncer : bouncer.version, loadBefore, loadAfter });
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, md);
  console.log(`\n${md}\nWritten to ${shown(RESULTS)}`);
}

interface ReportInput {
  measured: Measured[];
  setups: Setup[];
  seed: string;
  params: { category: { slug: string; matching: number }; minPrice?: string; maxPrice?: string };
  pg: string;
  bouncer: string;
  loadBefore: number;
  loadAfter: number;
}

function report(r: ReportInput): string {
  const row = (key: string, setup: string) => r.measured.find((m) => m.key === key && m.variant === setup);
  const processCount = (setup: string) => r.setups.find((s) => s.name === setup)?.processes ?? 1;
  const notes = (m: Measured) => {
    const n = [notesOf(m)];
    const s = r.setups.find((x) => x.name === m.variant);
    if (s?.env.WEB_CONCURRENCY && (s.processes ?? 0) < Number(s.env.WEB_CONCURRENCY)) n.push(`WEB_CONCURRENCY not honoured by this build: ${s.processes} process`);
    else if (s?.env.WEB_CONCURRENCY) n.push('node cores include the cluster primary');
    const sh = shares(m);
    if (s?.env.DATABASE_REPLICA_URLS && sh && sh.replica < 0.05 && m.key !== 'f') n.push('the replica served (almost) nothing: replica routing not in this build?');
    return n.filter(Boolean).join('; ');
  };
  const keys = [...new Set(r.measured.map((m) => m.key))];
  const nameOf = (key: string) => r.measured.find((m) => m.key === key)?.name ?? key;
  const lines = (setupNames: string[], header: string[], cells: (m: Measured) => string[]): string[] => {
    const out = [`| Scenario | Setup | ${header.join(' | ')} |`, `| --- | --- | ${header.map((h) => (h === 'Limit' || h === 'Notes' ? '---' : '---:')).join(' | ')} |`];
    // Only the scenarios measured on more than one of the setups compared.
    for (const key of keys.filter((k) => setupNames.filter((name) => row(k, name)).length > 1)) {
      for (const name of setupNames) {
        const m = row(key, name);
        if (m) out.push(`| ${nameOf(key)} | ${name} | ${cells(m).join(' | ')} |`);
      }
    }
    return out;
  };
  // Its req/s over the reference's in each round: their spread is this run's noise.
  const perRound = (m: Measured) => {
    const ref = row(m.key, 'one')?.roundRps ?? [];
    return m.variant === 'one' || !m.roundRps?.length ? '-' : m.roundRps.map((v, i) => (ref[i] ? fmt(v / ref[i], 2) : '-')).join(' ');
  };
  const base = (m: Measured) => [fmt(m.rps), fmt(m.p50), fmt(m.p99), ratio(m, row(m.key, 'one')), perRound(m)];
  const baseHeader = ['req/s', 'p50 ms', 'p99 ms', 'vs one', 'vs one per round'];
  const pgShare = (s: Shares | undefined) => (s && s.primary + s.replica > 0 ? `${Math.round((s.primary / (s.primary + s.replica)) * 100)}%` : '-');

  const processesTable = lines(['one', 'two'], [...baseHeader, 'web processes', 'node cores', 'node cores per process', 'PostgreSQL cores', 'load generator cores', 'machine busy', 'Limit', 'Notes'], (m) => {
    const s = shares(m);
    const n = processCount(m.variant ?? '');
    return [...base(m), String(n), c2(s?.web), c2(s ? s.web / Math.max(1, n) : undefined), c2(s ? s.primary + s.replica : undefined), c2(s?.load), c2(s?.machine), limit(m, n), notes(m)];
  });
  const replicaTable = lines(['one', 'replica'], [...baseHeader, 'primary cores', 'replica cores', "primary's share of PostgreSQL CPU", 'node cores', 'machine busy', 'Limit', 'Notes'], (m) => {
    const s = shares(m);
    return [...base(m), c2(s?.primary), c2(s?.replica), pgShare(s), c2(s?.web), c2(s?.machine), limit(m, processCount(m.variant ?? '')), notes(m)];
  });
  const poolTable = lines(['one', 'unprepared', 'pgbouncer'], [...baseHeader, 'primary cores', 'PgBouncer cores', 'node cores', 'machine busy', 'Limit', 'Notes'], (m) => {
    const s = shares(m);
    return [...base(m), c2(s?.primary), c2(s?.pgbouncer), c2(s?.web), c2(s?.machine), limit(m, processCount(m.variant ?? '')), notes(m)];
  });
  const cpuTable = lines(r.setups.map((s) => s.name), ['node', 'primary', 'replica', 'PgBouncer', 'load generator', 'other', 'machine busy', `of ${CORES}`], (m) => {
    const s = shares(m);
    return [c2(s?.web), c2(s?.primary), c2(s?.replica), c2(s?.pgbouncer), c2(s?.load), c2(s?.other), c2(s?.machine), s ? `${Math.round((s.machine / CORES) * 100)}%` : '-'];
  });
  // CPU milliseconds per request: what a request costs each piece, which other work on the machine
  // changes far less than it changes req/s (it takes cores away, not work off a request).
  const perRequest = (m: Measured, group: 'web' | 'postgres' | 'pgbouncer' | 'load') => {
    const u = m.usage;
    if (!u || !m.requests) return undefined;
    const seconds = group === 'web' ? (u[`web:${m.variant}`] ?? 0) : group === 'postgres' ? (u.primary ?? 0) + (u.replica ?? 0) : (u[group] ?? 0);
    const ms = (seconds * 1000) / m.requests;
    // Below 5 µs: the piece is not on this request's path (idle housekeeping), not a cost.
    return ms >= 0.005 ? ms : undefined;
  };
  const costTable = lines(r.setups.map((s) => s.name), ['req/s', 'node', 'PostgreSQL', 'PgBouncer', 'load generator', 'requests per node core', 'requests per PostgreSQL core'], (m) => {
    const web = perRequest(m, 'web');
    const pg = perRequest(m, 'postgres');
    return [fmt(m.rps), fmt(web, 3), fmt(pg, 3), fmt(perRequest(m, 'pgbouncer'), 3), fmt(perRequest(m, 'load'), 3), web ? fmt(1000 / web) : '-', pg ? fmt(1000 / pg) : '-'];
  });
  const filter = `category=${r.params.category.slug}${r.params.minPrice ? `&min_price=${r.params.minPrice}&max_price=${r.params.maxPrice}` : ''}&in_stock=true&ordering=price`;
  return [
    '# Scale-out benchmark results',
    '',
    `Written by \`npm run bench:scale\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Not a test: one machine runs the load`,
    'generator, every web process, both PostgreSQL servers and PgBouncer, so they compete for the same cores; what each figure',
    'shows is where the CPU went, not what separate machines would do.',
    '',
    `- Machine: ${describeMachine()}; load average ${r.loadBefore.toFixed(1)} before the HTTP runs, ${r.loadAfter.toFixed(1)} after (other work on the machine counts too)`,
    `- Node ${process.version} (servers and load generator), PostgreSQL ${r.pg} (a primary and its streaming replica, both started by the benchmark: fsync off, max_connections 300), ${r.bouncer}, autocannon ${readJson('node_modules/autocannon/package.json').version}`,
    `- Build: this checkout, ${describeCheckout(ROOT)}${opts['skip-build'] ? ' (--skip-build: dist/ as it was)' : ''}`,
    `- Catalog: ${PRODUCTS.toLocaleString('en-US')} products, seed ${opts.seed}; ${r.seed}; the replica is a \`pg_basebackup -R\` of the seeded primary.`,
    `- Load: ${CONNECTIONS} autocannon connections, ${WARMUP} s warm-up then ${DURATION} s per scenario and setup in ${ROUNDS} interleaved rounds (req/s over all rounds, p50/p99 the median of the rounds; each scenario on every setup back to back, the order rotated each round).`,
    `- Filtered list (a): \`${filter}\` (${r.params.category.matching.toLocaleString('en-US')} matching products).`,
    '- Setups, each an API server `node dist/src/main.js` (NODE_ENV=production, response validation off, LOG_LEVEL=warn, write and read pools of 10 per process), all running during the whole run:',
    ...r.setups.map((s) => `  - **${s.name}**: ${s.what}${s.unavailable ? ` (not measured: ${s.unavailable})` : ''}`),
    '- CPU columns: cores used on average during the measured rounds (CPU seconds from /proc over wall seconds): node = the setup\'s web process(es); PostgreSQL = each postmaster and its backends; load generator = autocannon in the bench process; machine busy = every process on the machine (/proc/stat), other = what none of the above used.',
    '- vs one: req/s over the reference setup\'s, over all rounds, then in each round (a round runs the scenario on every setup one after the other: the spread of these is the noise of this run).',
    '- Limit: a web process at 0.8 core or more is node\'s limit (one JavaScript thread, near its one core); otherwise, when the machine\'s cores are 85% busy or more, the cores, with their users; otherwise no CPU is the limit.',
    '',
    '## 1 vs 2 web processes',
    '',
    ...processesTable,
    '',
    '## List reads with and without the replica',
    '',
    ...replicaTable,
    '',
    '## Direct vs PgBouncer (transaction mode)',
    '',
    ...poolTable,
    '',
    '## Where the CPU went (cores, every run)',
    '',
    ...cpuTable,
    '',
    '## CPU per request (ms, every run)',
    '',
    'CPU milliseconds each piece spent per request answered, and what one core of it would serve at that cost (1000 / ms): the',
    "figure other work on the machine changes least (it takes cores away rather than adding work to a request), and the one a",
    'capacity plan scales from.',
    '',
    ...costTable,
    '',
  ].join('\n');
}

main().catch(async (err) => {
  console.error(err);
  await teardown();
  process.exit(1);
});
