/**
 * WEB_CONCURRENCY=2: `src/main.ts` as a node:cluster of two web processes, started as a real
 * process. Which process answered is read from the access log (each line has its pid and request
 * id); the metrics are scraped on the API port (METRICS_TOKEN, answered by either web process) and
 * on METRICS_PORT (served by the primary). The tests run in order on one cluster.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { startApp, type TestApp } from '../../support/app';
import { type LogLine, poll, type ServerProcess, spawnServer, startServer } from '../../support/processes';
import { parseSamples, samplesOf, total } from '../../support/prometheus';
import { rawRequest } from '../../support/raw-http';

const TOKEN = 'cluster-metrics-token-0123456789';

describe('WEB_CONCURRENCY=2: a cluster of two web processes', () => {
  let app: TestApp;
  let server: ServerProcess;
  let metricsPort: number;
  let sent = 0;

  beforeAll(async () => {
    app = await startApp();
    server = await startServer(app, { WEB_CONCURRENCY: '2', METRICS_TOKEN: TOKEN, METRICS_PORT: '0' });
    await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('cluster up'));
    // Each web process's own line may come a moment after the primary saw it listen.
    for (const worker of ['1', '2']) await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on') && l.worker === worker);
    metricsPort = (await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('cluster metrics on'))).port as number;
  }, 180_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await app?.close();
  });

  const primaryPid = () => server.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('starting 2 web processes'))!.pid as number;
  const listening = () => server.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'));

  /** `count` requests, each on a connection of its own; the pid of the process that answered each. */
  async function answeredBy(count: number): Promise<number[]> {
    const pids: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `cluster-${Date.now()}-${sent++}`;
      const res = await rawRequest(server.baseUrl, '/api/', { headers: { 'x-request-id': id } });
      expect(res.status).toBe(200);
      const line: LogLine = await server.waitFor((l) => l.reqId === id, 10_000);
      pids.push(line.pid as number);
    }
    return pids;
  }

  it('serves requests from both web processes, neither of them the primary', async () => {
    expect(listening().map((l) => l.worker).sort()).toEqual(['1', '2']);
    const pids = new Set(await answeredBy(8));
    expect(pids.size).toBe(2);
    expect(pids).not.toContain(primaryPid());
    expect(new Set(listening().map((l) => l.pid))).toEqual(pids);
  });

  it('runs the in-process job worker in the first web process only', () => {
    const workers = server.lines.filter((l) => l.msg === 'worker running');
    expect(workers.map((l) => l.worker)).toEqual(['1']);
  });

  const scrapePort = async () => {
    const scrape = await rawRequest(`http://127.0.0.1:${metricsPort}`, '/metrics');
    expect(scrape.status).toBe(200);
    return scrape.text;
  };

  it('answers a scrape with the whole cluster: every series of every web process, labelled by its place', async () => {
    const before = sent;
    await answeredBy(6);
    const scrapes = [
      await rawRequest(server.baseUrl, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }),
      await rawRequest(server.baseUrl, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }),
      await rawRequest(`http://127.0.0.1:${metricsPort}`, '/metrics'),
    ];
    for (const scrape of scrapes) {
      expect(scrape.status).toBe(200);
      // Every GET /api/ of this file so far, whichever process answered it and whichever is scraped:
      // each process's own series, never a sum across them (`sum without (worker)` in a query).
      const served = samplesOf(scrape.text, 'http_requests_total', { operation: 'getApiRoot', status_class: '2xx' });
      expect(served.map((s) => s.labels.worker).sort()).toEqual(['1', '2']);
      expect(total(scrape.text, 'http_requests_total', { operation: 'getApiRoot', status_class: '2xx' })).toBe(before + 6);
      // Every series carries its process's place, prom-client's default metrics too.
      expect(parseSamples(scrape.text).filter((s) => s.labels.worker !== '1' && s.labels.worker !== '2')).toEqual([]);
      for (const name of ['process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_version_info', 'nodejs_eventloop_lag_seconds', 'db_pool_connections_idle']) {
        expect([name, [...new Set(samplesOf(scrape.text, name).map((s) => s.labels.worker))].sort()]).toEqual([name, ['1', '2']]);
      }
      // The job queues (one table) are read and reported by web process 1 alone.
      expect(new Set(samplesOf(scrape.text, 'job_queue_depth').map((s) => s.labels.worker))).toEqual(new Set(['1']));
    }
  });

  it('replaces a web process killed with SIGKILL; the other\'s counters go on', async () => {
    const survivorCount = total(await scrapePort(), 'http_requests_total', { operation: 'getApiRoot', worker: '1' });
    expect(survivorCount).toBeGreaterThan(0);
    const victim = listening().find((l) => l.worker === '2')!;
    process.kill(victim.pid as number, 'SIGKILL');
    const died = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('web process 2 died'));
    expect(died).toMatchObject({ level: 50, slot: 2, pid: victim.pid, signal: 'SIGKILL' });
    // Scrapes still answer while the replacement starts (it is left out until its registry is ready),
    // and the survivor's series are as they were: nothing summed drops with the dead process.
    for (const wait of [0, 1500]) {
      await new Promise((r) => setTimeout(r, wait));
      const text = await scrapePort();
      expect(text).toMatch(/^process_resident_memory_bytes\{worker="1"\} \d+/m);
      expect(total(text, 'http_requests_total', { operation: 'getApiRoot', worker: '1' })).toBe(survivorCount);
    }
    const replacement = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on') && l.worker === '2' && l.pid !== victim.pid);
    // Both places serve again: the survivor and the replacement.
    const pids = await poll(
      async () => new Set(await answeredBy(4)),
      (seen) => seen.has(replacement.pid as number) && seen.size === 2,
      30_000,
      100,
    );
    expect(pids).toContain(replacement.pid);
    expect(pids).not.toContain(victim.pid);
  });

  it('replaces web process 1 killed with SIGKILL, and the job worker moves to its replacement', async () => {
    const victim = listening().find((l) => l.worker === '1' && server.lines.some((w) => w.msg === 'worker running' && w.pid === l.pid))!;
    expect(victim).toBeDefined();
    process.kill(victim.pid as number, 'SIGKILL');
    const died = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('web process 1 died'));
    expect(died).toMatchObject({ level: 50, slot: 1, pid: victim.pid, signal: 'SIGKILL' });
    const replacement = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on') && l.worker === '1' && l.pid !== victim.pid);
    // The replacement runs the in-process job worker again (only place 1 does), and no other process does.
    const running = await server.waitFor((l) => l.msg === 'worker running' && l.pid === replacement.pid);
    expect(running.worker).toBe('1');
    expect(server.lines.filter((l) => l.msg === 'worker running').map((l) => l.pid)).toEqual([victim.pid, replacement.pid]);
    // Its job queue metrics come back with it once its registry is ready.
    const text = await poll(scrapePort, (t) => samplesOf(t, 'job_queue_depth').length > 0, 30_000, 200);
    expect(new Set(samplesOf(text, 'job_queue_depth').map((s) => s.labels.worker))).toEqual(new Set(['1']));
    const pids = await poll(
      async () => new Set(await answeredBy(4)),
      (seen) => seen.has(replacement.pid as number) && seen.size === 2,
      30_000,
      100,
    );
    expect(pids).not.toContain(victim.pid);
  });

  it('stops every web process on SIGTERM, finishing a request in flight, and exits 0', async () => {
    // A registration whose body is still arriving when SIGTERM comes: on a keep-alive connection
    // that already served a request, so a web process holds it.
    const socket = connect(server.port, '127.0.0.1');
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (d: string) => (received += d));
    const closed = once(socket, 'close');
    const head = (extra: string) => `Host: 127.0.0.1:${server.port}\r\n${extra}\r\n`;
    socket.write(`GET /api/ HTTP/1.1\r\n${head('')}`);
    await poll(async () => received, (r) => r.endsWith('}'), 10_000, 20);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    received = '';
    const body = JSON.stringify({ username: `drained${Date.now()}`, email: `drained${Date.now()}@example.com`, password: 'a-long-enough-password' });
    socket.write(`POST /api/auth/register/ HTTP/1.1\r\n${head(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`)}${body.slice(0, 10)}`);
    await new Promise((r) => setTimeout(r, 300));

    const exit = server.stop('SIGTERM');
    for (const worker of ['1', '2']) await server.waitFor((l) => l.msg === 'shutting down: draining in-flight requests' && l.worker === worker);
    socket.write(body.slice(10));
    // Answered in full, then the connection is closed by the stopping server.
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 201 /);
    expect(received).toMatch(/"username":"drained\d+"/);
    expect(await exit).toEqual({ code: 0, signal: null });
    const stoppedWorkers = server.lines.filter((l) => l.msg === 'stopped' && l.worker !== undefined);
    expect(stoppedWorkers.map((l) => l.worker).sort()).toEqual(['1', '2']);
    const drained = server.lines.filter((l) => l.msg === 'shutting down: draining in-flight requests');
    expect(drained.map((l) => l.worker).sort()).toEqual(['1', '2']);
    expect(server.lines.filter((l) => l.process === 'primary' && l.msg === 'stopped')).toEqual([expect.objectContaining({ clean: true })]);
  });
});

describe('WEB_CONCURRENCY=2 stopped while starting', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('forks no other web process, and exits 0 when the first one was stopped as it loaded', async () => {
    const cluster = spawnServer(app, { WEB_CONCURRENCY: '2' });
    try {
      // The first web process is forked right after this line, and takes seconds to load.
      await cluster.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('starting 2 web processes'));
      expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(cluster.lines.filter((l) => typeof l.msg === 'string' && /^web process \d stopped$/.test(l.msg)).map((l) => l.slot)).toEqual([1]);
      expect(cluster.lines.filter((l) => l.process === 'primary' && l.msg === 'stopped')).toEqual([expect.objectContaining({ clean: true })]);
    } finally {
      await cluster.stop('SIGKILL');
    }
  });
});
