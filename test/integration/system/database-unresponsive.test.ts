import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { createTestDatabase } from '../../support/database';
import { session, until } from '../../support/database-probes';
import { startServingApp } from '../../support/serving-app';

/**
 * A database host that accepts connections and never answers (a hung server, a half-open network
 * path). pg's own connect timeout is none at all: without a bound, readiness and every request
 * would hang. The app reaches PostgreSQL through a TCP relay of this test's own, which can turn
 * silent: it still accepts connections, and forwards nothing.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let relay: Server;
let silent = false;
const sockets = new Set<Socket>();
let watcher: Client;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  relay = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (silent) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(db.url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String((relay.address() as AddressInfo).port);
  app = await startServingApp(relayed.toString(), { DATABASE_ACQUIRE_TIMEOUT_MS: '1000' });
  watcher = await session(db.url);
});

afterAll(async () => {
  silent = false;
  await app?.close();
  await watcher?.end();
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => relay?.close(r));
  await db?.drop();
});

describe('a database that accepts connections and never answers', () => {
  it('readiness answers 503 SERVICE_UNAVAILABLE within its bound, requests a documented 503; all comes back with the database', async () => {
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200);
    silent = true;
    // The app's open connections end (as they would when the host went away): it must connect anew.
    await watcher.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name like 'ecommerce-backend:%'`);
    await until('the app to see its connections gone', () => fetch(`${app.baseUrl}/readyz`).then((r) => r.status), (s) => s === 503);

    const ready = await fetch(`${app.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(await ready.json()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    for (const path of ['/api/product/', '/api/category/tree/']) {
      const res = await fetch(`${app.baseUrl}${path}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(['SERVICE_UNAVAILABLE', 'DATABASE_BUSY']).toContain(((await res.json()) as { code: string }).code);
    }

    silent = false;
    await until('readiness to come back', () => fetch(`${app.baseUrl}/readyz`).then((r) => r.status), (s) => s === 200);
    expect((await fetch(`${app.baseUrl}/api/category/tree/`)).status).toBe(200);
  });
});
