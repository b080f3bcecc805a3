/**
 * Two web processes (`src/main.ts`, two real processes on their own ports) against one Redis the
 * test started: the request limit and login throttling hold across them. Then that Redis is
 * frozen (SIGSTOP: connections stay open, nothing answers), and the API keeps answering with the
 * limits counted in each process's memory, saying so in its log and metrics, until it is thawed.
 */
import { startApp, type TestApp } from '../../support/app';
import { registerCustomer } from '../../support/factories';
import { type ServerProcess, startServer } from '../../support/processes';
import { sample } from '../../support/prometheus';
import { rawRequest } from '../../support/raw-http';
import { startRedis, type TestRedis } from '../../support/redis';

const TOKEN = 'shared-limits-metrics-token-0123';
/** "Answers instead of hanging": with Redis frozen a request used to take over 5 s, a login over 10 s. */
const ANSWERS_WITHIN_MS = 4_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWERS_WITHIN_MS} ms`)), ANSWERS_WITHIN_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('two web processes sharing one Redis', () => {
  let app: TestApp;
  let redis: TestRedis;
  let servers: ServerProcess[] = [];
  let addresses = 0;
  const address = () => `198.51.100.${++addresses}`;

  beforeAll(async () => {
    [app, redis] = await Promise.all([startApp(), startRedis()]);
    const env = {
      REDIS_URL: redis.url,
      RATE_LIMIT_MAX: '6',
      RATE_LIMIT_WINDOW_SECONDS: '60',
      LOGIN_MAX_FAILURES: '4',
      TRUST_PROXY: '1',
      METRICS_TOKEN: TOKEN,
      WORKER_IN_PROCESS: 'false',
    };
    servers = await Promise.all([startServer(app, env), startServer(app, env)]);
    for (const s of servers) await s.waitFor((l) => l.msg === 'connected to Redis: rate limits and login throttling are shared by every process');
  }, 180_000);
  afterAll(async () => {
    redis?.thaw();
    for (const s of servers) await s.stop('SIGKILL');
    await redis?.stop();
    await app?.close();
  });

  const get = (server: ServerProcess, from: string) => within(server.api.GET('/api/', { headers: { 'X-Forwarded-For': from } }), 'GET /api/');
  const loginAt = (server: ServerProcess, from: string, username: string, password: string) =>
    within(server.api.POST('/api/auth/jwt/login/', { body: { username, password }, headers: { 'X-Forwarded-For': from } }), 'login');
  const scrape = async (server: ServerProcess) => (await rawRequest(server.baseUrl, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).text;

  it('answers 429 after the shared budget of requests, whichever process counts it', async () => {
    const from = address();
    const seen: [number, string | null][] = [];
    for (let i = 0; i < 8; i++) {
      const { response } = await get(servers[i % 2]!, from);
      seen.push([response.status, response.headers.get('ratelimit-remaining')]);
    }
    // 6 in all, not 6 per process (12).
    expect(seen).toEqual([
      [200, '5'],
      [200, '4'],
      [200, '3'],
      [200, '2'],
      [200, '1'],
      [200, '0'],
      [429, '0'],
      [429, '0'],
    ]);
  });

  it('throttles logins across processes: failures at one count at the other', async () => {
    const { user, password } = await registerCustomer(app);
    const from = address();
    for (let i = 0; i < 4; i++) {
      const { response } = await loginAt(servers[i % 2]!, from, user.username, 'wrong-password');
      expect(response.status).toBe(401);
    }
    for (const server of servers) {
      const { error, response } = await loginAt(server, from, user.username, password);
      expect(response.status).toBe(429);
      expect(error).toMatchObject({ code: 'LOGIN_THROTTLED' });
    }
  });

  describe('with that Redis frozen (SIGSTOP)', () => {
    beforeAll(() => redis.freeze());

    it('keeps answering requests and logins, with the limits counted in each process', async () => {
      const { user, password } = await registerCustomer(app);
      const [first, second] = servers as [ServerProcess, ServerProcess];
      const from = address();
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await get(first, from)).response.status);
      // Still limited, by this process alone (its memory does not know the other's counts).
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
      expect((await get(second, from)).response.status).toBe(200);

      expect((await loginAt(first, address(), user.username, 'wrong-password')).response.status).toBe(401);
      const { data, response } = await loginAt(second, address(), user.username, password);
      expect(response.status).toBe(200);
      expect(data?.access).toEqual(expect.any(String));
    });

    it('says so once in each process: a warning, redis_up 0 and the fallbacks counted', async () => {
      for (const server of servers) {
        const warning = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('Redis is not answering'), 10_000);
        expect(warning.level).toBe(40);
        const text = await scrape(server);
        expect(sample(text, 'redis_up')).toBe(0);
        expect(sample(text, 'rate_limit_store_fallback_total')).toBeGreaterThan(0);
      }
      expect(servers.map((s) => s.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Redis is not answering')).length)).toEqual([1, 1]);
    });

    it('goes back to Redis once it answers again (SIGCONT): an info line, redis_up 1, shared limits', async () => {
      redis.thaw();
      for (const server of servers) {
        const back = await server.waitFor((l) => l.msg === 'Redis answers again: rate limits and login throttling are shared again', 20_000);
        expect(back.level).toBe(30);
        expect(sample(await scrape(server), 'redis_up')).toBe(1);
      }
      const fallbacks = await Promise.all(servers.map(async (s) => sample(await scrape(s), 'rate_limit_store_fallback_total')));
      const from = address();
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 4; i++) remaining.push((await get(servers[i % 2]!, from)).response.headers.get('ratelimit-remaining'));
      expect(remaining).toEqual(['5', '4', '3', '2']);
      // Counted in Redis again, not in memory.
      expect(await Promise.all(servers.map(async (s) => sample(await scrape(s), 'rate_limit_store_fallback_total')))).toEqual(fallbacks);
    });
  });
});
