import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '../../support/database';
import { listeningPort, watchProcess } from '../../support/processes';

const root = join(__dirname, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Running {
  child: ChildProcess;
  port: number;
  logs: string[];
}

/** Starts `src/main.ts` (what `npm start` runs, without the build) and waits until it listens. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const childEnv: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info', ...env };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn(tsx, ['src/main.ts'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const watched = watchProcess(child, 45_000);
  return { child, port: await listeningPort(watched), logs: watched.output };
}

function stop(server: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    server.child.once('exit', (code) => resolve(code));
    server.child.kill(signal);
  });
}

async function loginAsDemoAdmin(port: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/auth/jwt/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin-demo-password' }),
  });
}

describe('the server process', () => {
  it('starts on an embedded PostgreSQL with no configuration, serves a working login, stops cleanly and keeps its data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-embedded-'));
    chmodSync(dir, 0o755); // reachable by the postgres user the embedded server runs as under root
    const dataDir = join(dir, 'pg');
    try {
      const first = await startServer({ EMBEDDED_PG_DIR: dataDir });
      expect((await fetch(`http://127.0.0.1:${first.port}/readyz`)).status).toBe(200);
      expect(first.logs.join('\n')).toContain('demo catalog seeded');
      expect(first.logs.join('\n')).toContain('demo shipping zones and tax rates seeded');
      const login = await loginAsDemoAdmin(first.port);
      expect(login.status).toBe(200);
      const { access } = (await login.json()) as { access: string };
      // Change something, to see it survive a restart.
      await fetch(`http://127.0.0.1:${first.port}/api/auth/me/`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
        body: JSON.stringify({ first_name: 'Persisted' }),
      });
      expect(await stop(first)).toBe(0);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false); // the embedded server stopped too

      const second = await startServer({ EMBEDDED_PG_DIR: dataDir });
      const again = await loginAsDemoAdmin(second.port);
      const me = await fetch(`http://127.0.0.1:${second.port}/api/auth/me/`, {
        headers: { authorization: `Bearer ${((await again.json()) as { access: string }).access}` },
      });
      expect(((await me.json()) as { first_name: string }).first_name).toBe('Persisted');
      expect(second.logs.join('\n')).not.toContain('demo data seeded');
      expect(second.logs.join('\n')).not.toContain('demo catalog seeded');
      expect(second.logs.join('\n')).not.toContain('demo shipping zones');
      expect(await stop(second, 'SIGINT')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with an invalid configuration and says why', async () => {
    const child = spawn(tsx, ['src/main.ts'], { cwd: root, env: { ...process.env, PORT: 'eighty', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT: must be a number/);
    expect(stderr).toMatch(/JWT_SECRET: required in production/);
  });
});

describe('npm run createsuperuser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  function run(args: string[], input?: string): Promise<{ code: number | null; out: string }> {
    const child = spawn(tsx, ['src/cli/createsuperuser.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.stdin.end(input ?? '');
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
  }

  it('creates an admin from flags, and refuses a duplicate or invalid input', async () => {
    const ok = await run(['--username', 'root', '--email', 'root@example.com', '--password', 'root-password-1']);
    expect(ok.out).toMatch(/Superuser root \(id \d+\) created/);
    expect(ok.code).toBe(0);
    // An operator's account counts as verified: REQUIRE_VERIFIED_EMAIL never locks an admin out.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ verified: boolean }>("select email_verified_at is not null as verified from users where username = 'root'");
      expect(rows).toEqual([{ verified: true }]);
    } finally {
      await client.end();
    }
    const dup = await run(['--username', 'ROOT', '--email', 'other@example.com', '--password', 'root-password-1']);
    expect(dup.code).toBe(1);
    expect(dup.out).toMatch(/already registered/);
    const bad = await run(['--username', 'x y', '--email', 'nope', '--password', 'short']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/username/);
    expect(bad.out).toMatch(/email/);
  });

  it('asks for what is missing when run interactively', async () => {
    const res = await run([], 'keeper\nkeeper@example.com\nkeeper-password-1\nkeeper-password-1\n');
    expect(res.out).toMatch(/Superuser keeper \(id \d+\) created/);
    expect(res.code).toBe(0);
  });
});
