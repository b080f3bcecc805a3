import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/db/embedded';

/** A Redis server of the test's own (never the machine's 6379, which other tests may use). */
export interface TestRedis {
  url: string;
  pid: number;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung or overloaded Redis). */
  freeze(): void;
  /** SIGCONT: it answers again, with its data. */
  thaw(): void;
  /** Thaws it if frozen, and stops it. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` (Debian's `redis-server` package) on a free port, without persistence,
 * and resolves once it accepts connections.
 */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output.join('')}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      output.push(String(d));
      if (output.join('').includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => output.push(String(d)));
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`redis-server exited (${code}):\n${output.join('')}`))));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    freeze: () => void (alive() && child.kill('SIGSTOP')),
    thaw: () => void (alive() && child.kill('SIGCONT')),
    async stop() {
      if (!alive()) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
