import { startApp, type TestApp } from '../../support/app';
import { startWorkerProcess, type WatchedProcess } from '../../support/processes';
import { sample } from '../../support/prometheus';

/**
 * `npm run worker` (src/worker.ts) with METRICS_PORT: its own /metrics listener, like the web
 * process's, with the job queues as this worker sees them, its pools and its process.
 */
// A real worker process (tsx compiles the app): slow on a busy machine.
jest.setTimeout(120_000);

let app: TestApp;
let worker: WatchedProcess | undefined;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());
afterEach(async () => {
  await worker?.stop('SIGKILL');
});

it('serves /metrics on METRICS_PORT: job queue depth and failures per queue, its pools, its process; stops with it', async () => {
  // Deferred by an hour: it stays queued while the worker runs (the depth is read from the job table).
  await app.orm.em.fork().transactional((tx) => app.services.jobs.send(tx, 'mail.send', { to: 'later@example.com', subject: 'Later', text: 'Not yet.' }, { startAfter: 3600 }));
  worker = startWorkerProcess(app, { METRICS_PORT: '0' });
  const { port } = (await worker.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('metrics on'))) as { port: number };
  await worker.waitFor((l) => l.msg === 'worker running');

  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  expect(sample(text, 'job_queue_depth', { queue: 'mail.send', state: 'queued' })).toBe(1);
  expect(sample(text, 'job_queue_depth', { queue: 'mail.send', state: 'active' })).toBe(0);
  expect(sample(text, 'job_queue_failed', { queue: 'mail.send' })).toBe(0);
  // Every queue the worker works is listed, even an empty one.
  expect(sample(text, 'job_queue_depth', { queue: 'webhooks.deliver', state: 'queued' })).toBe(0);
  expect(sample(text, 'db_pool_connections_idle', { pool: 'write' })).toBeGreaterThanOrEqual(0);
  expect(sample(text, 'db_pool_acquires_waiting', { pool: 'write' })).toBe(0);
  expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+/m);
  expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

  expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
});

it('serves no metrics without METRICS_PORT (a worker has no API port for METRICS_TOKEN)', async () => {
  worker = startWorkerProcess(app, { METRICS_TOKEN: 'metrics-token-0123456789abcdef' });
  await worker.waitFor((l) => l.msg === 'worker running');
  expect(worker.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('metrics on'))).toEqual([]);
  expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
});
