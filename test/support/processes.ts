import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createApiClient, type ApiClient } from '../../generated/sdk/index';
import { signWebhook } from '../../src/modules/checkout';
import { TEST_JWT_SECRET, TEST_WEBHOOK_SECRET, type TestApp } from './app';
import { pooledEnv, pooledUrl } from './pgbouncer';

const root = join(__dirname, '..', '..');

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real server process (`src/main.ts`, as `npm start` runs it) on a test app's database. */
export interface ServerProcess {
  port: number;
  baseUrl: string;
  /** The SDK's client for this process; `as(token)` sends `Authorization: Bearer <token>`. */
  api: ApiClient;
  as(token: string): ApiClient;
  /** Its JSON log lines (stdout) and everything else it printed (stderr: the failpoint's last words). */
  lines: LogLine[];
  output: string[];
  /** Resolves when the process has exited, with its exit code or the signal that killed it. */
  exited: Promise<Exit>;
  /** The first log line (past or future) that matches. */
  waitFor(test: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends the signal (SIGTERM by default) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** A child process's JSON log lines (stdout; other output is kept as text), awaitable, and its exit. */
export interface WatchedProcess {
  lines: LogLine[];
  output: string[];
  /** Resolves when the process has exited, with its exit code or the signal that killed it. */
  exited: Promise<Exit>;
  /** The first log line (past or future) that matches; rejects on a timeout or an earlier exit. */
  waitFor(test: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends the signal (SIGTERM by default) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Watches a child spawned with `stdio: ['ignore', 'pipe', 'pipe']`. */
export function watchProcess(child: ChildProcess, defaultTimeoutMs = 90_000): WatchedProcess {
  const lines: LogLine[] = [];
  const output: string[] = [];
  const waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  child.stderr!.on('data', (d) => output.push(String(d)));
  child.stdout!.on('data', (d: Buffer) => {
    for (const text of String(d).split('\n').filter(Boolean)) {
      output.push(text);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of waiters.filter((w) => w.test(line))) w.resolve(line);
    }
  });
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (test: (l: LogLine) => boolean, timeoutMs = defaultTimeoutMs): Promise<LogLine> => {
    const seen = lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
      waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((e) => (clearTimeout(timer), reject(new Error(`exited (${e.signal ?? e.code}) first:\n${output.join('\n')}`))));
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { lines, output, exited, waitFor, stop };
}

/** The port a server process logs once it listens (its `listening ...` line). */
export async function listeningPort(watched: WatchedProcess): Promise<number> {
  return (await watched.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening') && typeof l.port === 'number')).port as number;
}

/**
 * Starts `src/main.ts` on the app's database, in a Node process of its own (tsx as its loader, not
 * as a parent process: the process spawned is the server, so the signal that kills it is seen), with the test app's secrets (its tokens and
 * webhook signatures are valid here), response validation on, and the job worker in the process
 * unless `WORKER_IN_PROCESS=false`. `env` adds or overrides settings (FAILPOINTS...). Resolves once
 * it listens. Each start compiles the app: a few seconds, more on a busy machine.
 */
export async function startServer(app: TestApp, env: Record<string, string> = {}): Promise<ServerProcess> {
  const watched = spawnServer(app, env);
  const { lines, output, exited, waitFor, stop } = watched;
  let port: number;
  try {
    port = await listeningPort(watched);
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  return { port, baseUrl, api: createApiClient({ baseUrl }), as: (token) => createApiClient({ baseUrl, token }), lines, output, exited, waitFor, stop };
}

/** `startServer`'s process, answered at once: for what happens before it listens. */
export function spawnServer(app: Pick<TestApp, 'databaseUrl'>, env: Record<string, string> = {}): WatchedProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: pooledUrl(app.databaseUrl),
      JWT_SECRET: TEST_JWT_SECRET,
      PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      SANDBOX_CONFIRM_MS: '50',
      JOBS_POLL_SECONDS: '0.5',
      RATE_LIMIT_MAX: '0',
      ...pooledEnv(pooledUrl(app.databaseUrl)),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchProcess(child);
}

/**
 * Starts `npm run worker`'s process (`src/worker.ts`, tsx as its loader) on the app's database,
 * with the test app's JWT secret and a short poll, through the run's PgBouncer if there is one (as
 * `spawnServer`); `env` adds or overrides settings. Answered at once: wait for its `worker running` line.
 */
export function startWorkerProcess(app: Pick<TestApp, 'databaseUrl'>, env: Record<string, string> = {}): WatchedProcess {
  const url = pooledUrl(app.databaseUrl);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: url, JWT_SECRET: TEST_JWT_SECRET, JOBS_POLL_SECONDS: '0.5', ...pooledEnv(url), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchProcess(child);
}

/**
 * The servers a test file starts: the function answered starts one on the app's database (as
 * `startServer`); every one still running is killed (SIGKILL) after each test. Call it at the top
 * level of the file.
 */
export function serversFor(app: () => TestApp): (env?: Record<string, string>) => Promise<ServerProcess> {
  const running: ServerProcess[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop('SIGKILL');
  });
  return async (env = {}) => {
    const s = await startServer(app(), env);
    running.push(s);
    return s;
  };
}

/** Waits for the process to die, and checks it was killed by SIGKILL at that failpoint (not by anything else). */
export async function killedAt(server: ServerProcess, failpoint: string): Promise<void> {
  const exit = await server.exited;
  if (exit.signal !== 'SIGKILL' || !server.output.join('\n').includes(`failpoint ${failpoint}: SIGKILL`)) {
    throw new Error(`expected a SIGKILL at failpoint ${failpoint}, got ${exit.signal ?? `exit ${exit.code}`}:\n${server.output.join('\n')}`);
  }
}

/** Posts a provider event to a server's webhook, signed as the provider signs it. */
export async function postWebhook(baseUrl: string, event: object): Promise<{ status: number; body: unknown }> {
  const raw = JSON.stringify(event);
  const res = await fetch(`${baseUrl}/api/payment/webhook/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sandbox-signature': signWebhook(TEST_WEBHOOK_SECRET, raw) },
    body: raw,
  });
  return { status: res.status, body: await res.json() };
}

/** Polls every `intervalMs` until `ok` holds (for what a worker does in another process); the last value. */
export async function poll<T>(check: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
