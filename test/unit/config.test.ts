import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('has defaults that run locally: port 8000, embedded database, migrations and demo data', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.database.url).toBeUndefined();
    expect(c.database.migrateOnStart).toBe(true);
    expect(c.database.seedDemo).toBe(true);
    expect(c.auth.accessTtlSeconds).toBe(900);
    expect(c.http.validateResponses).toBe(false);
  });

  it('serves metrics only when asked: a token of 16+ characters, a port, a private host by default', () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, port: undefined, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_TOKEN: 't'.repeat(16), METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ token: 't'.repeat(16), port: 9464, host: '0.0.0.0' });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ METRICS_TOKEN: 'has a space in it here' })).toThrow(/METRICS_TOKEN: must be printable ASCII without spaces/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });

  it('traces only when OTEL_TRACING is on, and refuses a value that is not a boolean', () => {
    expect(loadConfig({}).tracing).toEqual({ enabled: false });
    expect(loadConfig({ OTEL_TRACING: 'true' }).tracing).toEqual({ enabled: true });
    expect(loadConfig({ OTEL_TRACING: '0' }).tracing).toEqual({ enabled: false });
    expect(() => loadConfig({ OTEL_TRACING: 'on' })).toThrow(/OTEL_TRACING: must be true or false/);
  });

  it('reports every problem at once, by variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short', CORS_ORIGINS: 'https://a.example, https://b.example' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues.join('\n');
      expect(issues).toMatch(/PORT/);
      expect(issues).toMatch(/DATABASE_URL/);
      expect(issues).toMatch(/JWT_SECRET: must be at least 32 characters/);
    }
  });

  it('requires a secret and a database in production, and turns off demo data and auto-migration there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required in production[\s\S]*DATABASE_URL: required[\s\S]*PAYMENT_WEBHOOK_SECRET: required/);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) });
    expect(c.database.seedDemo).toBe(false);
    expect(c.database.migrateOnStart).toBe(false);
    expect(c.http.corsOrigins).toEqual([]);
  });

  it('parses lists, booleans and proxy settings', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', MIGRATE_ON_START: 'false', TRUST_PROXY: '1' });
    expect(c.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.database.migrateOnStart).toBe(false);
    expect(c.http.trustProxy).toBe(1);
  });

  it('runs the job worker in process outside production only, and validates the job and mail settings', () => {
    const dev = loadConfig({});
    expect(dev.jobs).toEqual({ workerInProcess: true, concurrency: 2, pollIntervalSeconds: 2, poolMax: 5, superviseSeconds: 60 });
    expect(dev.carts).toEqual({ ttlDays: 30, expiryCron: '0 * * * *' });
    expect(dev.mail).toEqual({ smtpUrl: undefined, from: 'no-reply@localhost' });
    const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) };
    const prod = loadConfig(production);
    expect(prod.jobs.workerInProcess).toBe(false);
    expect(loadConfig({ ...production, WORKER_IN_PROCESS: 'true' }).jobs.workerInProcess).toBe(true);
    expect(() => loadConfig({ CART_EXPIRY_CRON: 'hourly', SMTP_URL: 'mail.example.com', JOBS_POLL_SECONDS: '0.1' })).toThrow(
      /CART_EXPIRY_CRON: must be a cron expression[\s\S]*JOBS_POLL_SECONDS|JOBS_POLL_SECONDS[\s\S]*CART_EXPIRY_CRON/,
    );
    expect(() => loadConfig({ SMTP_URL: 'mail.example.com' })).toThrow(/SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
  });
});

describe('payments and failpoints', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) };

  it('bounds provider calls (10 s by default) and supervises jobs every minute by default', () => {
    expect(loadConfig({}).checkout.providerTimeoutMs).toBe(10_000);
    expect(loadConfig({ PAYMENT_PROVIDER_TIMEOUT_MS: '2500', JOBS_SUPERVISE_SECONDS: '2' })).toMatchObject({ checkout: { providerTimeoutMs: 2500 }, jobs: { superviseSeconds: 2 } });
    expect(() => loadConfig({ PAYMENT_PROVIDER_TIMEOUT_MS: '10' })).toThrow(/PAYMENT_PROVIDER_TIMEOUT_MS/);
    expect(() => loadConfig({ JOBS_SUPERVISE_SECONDS: '0' })).toThrow(/JOBS_SUPERVISE_SECONDS/);
  });

  it('arms no failpoint unless FAILPOINTS names some, and refuses unknown names', () => {
    expect(loadConfig({}).failpoints).toEqual([]);
    expect(loadConfig({ FAILPOINTS: 'payment.after-charge, auth.refresh.after-use' }).failpoints).toEqual(['payment.after-charge', 'auth.refresh.after-use']);
    expect(() => loadConfig({ FAILPOINTS: 'payment.after-charge,payment.typo' })).toThrow(/FAILPOINTS[\s\S]*must be failpoint names: payment.before-charge/);
  });

  it('refuses failpoints in production unless explicitly allowed', () => {
    expect(() => loadConfig({ ...production, FAILPOINTS: 'payment.after-charge' })).toThrow(/FAILPOINTS: test-only[\s\S]*FAILPOINTS_ALLOW_PRODUCTION=true/);
    expect(loadConfig(production).failpoints).toEqual([]);
    expect(loadConfig({ ...production, FAILPOINTS: 'payment.after-charge', FAILPOINTS_ALLOW_PRODUCTION: 'true' }).failpoints).toEqual(['payment.after-charge']);
  });
});

describe('DATABASE_SSL', () => {
  const url = 'postgresql://u:p@db.example.com:5432/shop';

  it('is off by default, and for the embedded database', () => {
    expect(loadConfig({ DATABASE_URL: url }).database.ssl).toBe(false);
    expect(loadConfig({}).database.ssl).toBe(false);
  });

  it('encrypts with or without verifying the certificate', () => {
    expect(loadConfig({ DATABASE_URL: url, DATABASE_SSL: 'true' }).database.ssl).toEqual({ rejectUnauthorized: true });
    expect(loadConfig({ DATABASE_URL: url, DATABASE_SSL: 'no-verify' }).database.ssl).toEqual({ rejectUnauthorized: false });
    expect(loadConfig({ DATABASE_URL: url, DATABASE_SSL: 'false' }).database.ssl).toBe(false);
  });

  it("follows the URL's sslmode as libpq reads it when DATABASE_SSL is unset", () => {
    expect(loadConfig({ DATABASE_URL: `${url}?sslmode=require` }).database.ssl).toEqual({ rejectUnauthorized: false });
    expect(loadConfig({ DATABASE_URL: `${url}?sslmode=verify-full` }).database.ssl).toEqual({ rejectUnauthorized: true });
    expect(loadConfig({ DATABASE_URL: `${url}?sslmode=disable` }).database.ssl).toBe(false);
    expect(loadConfig({ DATABASE_URL: `${url}?sslmode=require`, DATABASE_SSL: 'false' }).database.ssl).toBe(false);
  });

  it('rejects anything else', () => {
    expect(() => loadConfig({ DATABASE_URL: url, DATABASE_SSL: 'yes please' })).toThrow(/DATABASE_SSL: must be false, true or no-verify/);
  });
});

describe('database limits', () => {
  it('bound every wait by default: a read pool of 10 beside the 10 writers, 5 s for a connection, 3 s for a lock (10 s placing an order), 15 s a statement (10 s a read)', () => {
    expect(loadConfig({}).database).toMatchObject({
      poolMax: 10,
      readPoolMax: 10,
      acquireTimeoutMs: 5000,
      lockTimeoutMs: 3000,
      statementTimeoutMs: 15000,
      readStatementTimeoutMs: 10000,
      checkoutLockTimeoutMs: 10000,
    });
  });

  it('takes each from the environment; 0 turns the read pool and the timeouts off, never the acquire wait', () => {
    const d = loadConfig({
      DATABASE_READ_POOL_MAX: '0',
      DATABASE_ACQUIRE_TIMEOUT_MS: '250',
      DATABASE_LOCK_TIMEOUT_MS: '0',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      DATABASE_READ_STATEMENT_TIMEOUT_MS: '1500',
      DATABASE_CHECKOUT_LOCK_TIMEOUT_MS: '0',
    }).database;
    expect(d).toMatchObject({ readPoolMax: 0, acquireTimeoutMs: 250, lockTimeoutMs: 0, statementTimeoutMs: 0, readStatementTimeoutMs: 1500, checkoutLockTimeoutMs: 0 });
    expect(() => loadConfig({ DATABASE_ACQUIRE_TIMEOUT_MS: '0' })).toThrow(/DATABASE_ACQUIRE_TIMEOUT_MS/);
    expect(() => loadConfig({ DATABASE_LOCK_TIMEOUT_MS: 'soon' })).toThrow(/DATABASE_LOCK_TIMEOUT_MS: must be a number/);
    expect(() => loadConfig({ DATABASE_READ_POOL_MAX: '-1' })).toThrow(/DATABASE_READ_POOL_MAX/);
  });

  it('sizes the search ranking cache: off at 0, else room for one search at least', () => {
    expect(loadConfig({}).catalogSearch).toEqual({ cacheSize: 2_000_000 });
    expect(loadConfig({ CATALOG_SEARCH_CACHE_SIZE: '0' }).catalogSearch).toEqual({ cacheSize: 0 });
    expect(loadConfig({ CATALOG_SEARCH_CACHE_SIZE: '1021' }).catalogSearch).toEqual({ cacheSize: 1021 });
    expect(() => loadConfig({ CATALOG_SEARCH_CACHE_SIZE: '1000' })).toThrow(/CATALOG_SEARCH_CACHE_SIZE: must be 0 \(off\) or at least 1021/);
    expect(() => loadConfig({ CATALOG_SEARCH_CACHE_SIZE: '-1' })).toThrow(/CATALOG_SEARCH_CACHE_SIZE/);
  });

  it('DATABASE_POOLER: none by default, pgbouncer for a pooler in transaction mode, nothing else', () => {
    expect(loadConfig({}).database.pooler).toBe('none');
    expect(loadConfig({ DATABASE_POOLER: 'pgbouncer' }).database.pooler).toBe('pgbouncer');
    expect(() => loadConfig({ DATABASE_POOLER: 'transaction' })).toThrow(/DATABASE_POOLER: must be none or pgbouncer/);
    expect(() => loadConfig({ DATABASE_POOLER: 'PgBouncer' })).toThrow(/DATABASE_POOLER: must be none or pgbouncer/);
  });

  it('DATABASE_PREPARED_STATEMENTS: unset, follows the pooler (on directly, off behind PgBouncer); set, it wins either way', () => {
    expect(loadConfig({}).database.preparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_POOLER: 'none' }).database.preparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_POOLER: 'pgbouncer' }).database.preparedStatements).toBe(false);
    // PgBouncer 1.21+ with max_prepared_statements keeps them.
    expect(loadConfig({ DATABASE_POOLER: 'pgbouncer', DATABASE_PREPARED_STATEMENTS: 'true' }).database.preparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_POOLER: 'none', DATABASE_PREPARED_STATEMENTS: 'false' }).database.preparedStatements).toBe(false);
    expect(() => loadConfig({ DATABASE_POOLER: 'pgbouncer', DATABASE_PREPARED_STATEMENTS: 'maybe' })).toThrow(/DATABASE_PREPARED_STATEMENTS: must be true or false/);
  });
});

describe('DATABASE_REPLICA_URLS and the replica settings', () => {
  const primary = 'postgresql://app@db.example.com:5432/shop';

  it('none by default; a comma-separated list of URLs, with the lag bound, the check interval and the read-your-writes window', () => {
    expect(loadConfig({}).database.replicas).toEqual({ urls: [], maxLagMs: 2000, checkIntervalMs: 1000, readYourWritesMs: 10000 });
    const r = loadConfig({
      DATABASE_URL: primary,
      DATABASE_REPLICA_URLS: ' postgresql://app@replica-1:5432/shop , postgres://app:s3cret@replica-2/shop,',
      DATABASE_REPLICA_MAX_LAG_MS: '500',
      DATABASE_REPLICA_CHECK_MS: '250',
      DATABASE_READ_YOUR_WRITES_MS: '3000',
    }).database.replicas;
    expect(r).toEqual({ urls: ['postgresql://app@replica-1:5432/shop', 'postgres://app:s3cret@replica-2/shop'], maxLagMs: 500, checkIntervalMs: 250, readYourWritesMs: 3000 });
  });

  it('refuses a replica that is not a postgres URL with a host and a database, naming the setting', () => {
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: 'replica-1:5432' })).toThrow(/DATABASE_REPLICA_URLS\.0: each must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: `${primary},mysql://replica/shop` })).toThrow(/DATABASE_REPLICA_URLS\.1: each must be/);
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: 'postgresql://replica-1:5432' })).toThrow(/DATABASE_REPLICA_URLS\.0: .*with a host and a database/);
  });

  it('refuses replicas without DATABASE_URL, out-of-range values, and a read-your-writes window not above the lag bound', () => {
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgresql://replica-1/shop' })).toThrow(/DATABASE_REPLICA_URLS: replicas of the embedded database are not supported/);
    expect(() => loadConfig({ DATABASE_REPLICA_MAX_LAG_MS: '10' })).toThrow(/DATABASE_REPLICA_MAX_LAG_MS/);
    expect(() => loadConfig({ DATABASE_REPLICA_CHECK_MS: 'often' })).toThrow(/DATABASE_REPLICA_CHECK_MS: must be a number/);
    expect(() => loadConfig({ DATABASE_READ_YOUR_WRITES_MS: '-1' })).toThrow(/DATABASE_READ_YOUR_WRITES_MS/);
    expect(() =>
      loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: 'postgresql://replica-1/shop', DATABASE_REPLICA_MAX_LAG_MS: '5000', DATABASE_READ_YOUR_WRITES_MS: '5000' }),
    ).toThrow(/DATABASE_READ_YOUR_WRITES_MS: must be greater than DATABASE_REPLICA_MAX_LAG_MS/);
    // The lag bound plus how old a replica's status may be: 3 check intervals (at least one plus 1 s).
    const replicas = (lag: string, check: string, window: string) => () =>
      loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: 'postgresql://replica-1/shop', DATABASE_REPLICA_MAX_LAG_MS: lag, DATABASE_REPLICA_CHECK_MS: check, DATABASE_READ_YOUR_WRITES_MS: window });
    expect(replicas('2000', '1000', '5000')).toThrow(/DATABASE_READ_YOUR_WRITES_MS: must be greater than DATABASE_REPLICA_MAX_LAG_MS \+ 3 × DATABASE_REPLICA_CHECK_MS .*here 5000/);
    expect(replicas('2000', '1000', '5001')).not.toThrow();
    expect(replicas('2000', '200', '3200')).toThrow(/here 3200/);
    expect(replicas('2000', '200', '3201')).not.toThrow();
  });
});

describe('REDIS_TLS', () => {
  it('verifies the certificate of a rediss:// server unless told not to (Heroku Key-Value Store)', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://:p@redis.example.com:6380' }).redisTlsVerify).toBe(true);
    expect(loadConfig({ REDIS_URL: 'rediss://:p@redis.example.com:6380', REDIS_TLS: 'no-verify' }).redisTlsVerify).toBe(false);
    expect(() => loadConfig({ REDIS_TLS: 'off' })).toThrow(/REDIS_TLS: must be verify or no-verify/);
  });

  it('bounds every wait on Redis by REDIS_TIMEOUT_MS (500 ms by default)', () => {
    expect(loadConfig({}).redisTimeoutMs).toBe(500);
    expect(loadConfig({ REDIS_TIMEOUT_MS: '2000' }).redisTimeoutMs).toBe(2000);
    expect(() => loadConfig({ REDIS_TIMEOUT_MS: '10' })).toThrow(/REDIS_TIMEOUT_MS/);
    expect(() => loadConfig({ REDIS_TIMEOUT_MS: 'soon' })).toThrow(/REDIS_TIMEOUT_MS: must be a number/);
  });
});

describe('WEB_CONCURRENCY', () => {
  const db = { DATABASE_URL: 'postgresql://u:p@db.example.com:5432/shop' };

  it('runs one web process by default; a number, or auto for the cores available', () => {
    expect(loadConfig({}).webConcurrency).toBe(1);
    expect(loadConfig({ ...db, WEB_CONCURRENCY: '4' }).webConcurrency).toBe(4);
    expect(loadConfig({ ...db, WEB_CONCURRENCY: 'auto' }).webConcurrency).toBe(availableParallelism());
  });

  it('refuses anything else, and more than one process on the embedded database', () => {
    for (const bad of ['0', '-1', '1.5', 'all', '257']) {
      expect(() => loadConfig({ ...db, WEB_CONCURRENCY: bad })).toThrow(/WEB_CONCURRENCY: must be auto or a whole number from 1 to 256/);
    }
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(/WEB_CONCURRENCY: more than one web process needs DATABASE_URL/);
    expect(loadConfig({ WEB_CONCURRENCY: '1' }).webConcurrency).toBe(1);
  });
});

describe('ALLOWED_HOSTS', () => {
  it('defaults to the local names without PUBLIC_URL, and to any host with it (links then use PUBLIC_URL only)', () => {
    expect(loadConfig({}).http.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) }).http.allowedHosts).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
    ]);
    expect(loadConfig({ PUBLIC_URL: 'https://shop.example.com' }).http.allowedHosts).toBeNull();
  });

  it('lists hosts (lower-cased), adding PUBLIC_URL’s host, and refuses what is not a host name', () => {
    expect(loadConfig({ ALLOWED_HOSTS: 'Shop.Example.com, .cdn.example.com,[::1]' }).http.allowedHosts).toEqual(['shop.example.com', '.cdn.example.com', '[::1]']);
    expect(loadConfig({ ALLOWED_HOSTS: 'api.example.com', PUBLIC_URL: 'https://Shop.Example.com/' }).http.allowedHosts).toEqual(['api.example.com', 'shop.example.com']);
    expect(() => loadConfig({ ALLOWED_HOSTS: '*' })).toThrow(/ALLOWED_HOSTS: must be host names/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'shop.example.com:8000' })).toThrow(/ALLOWED_HOSTS/);
    expect(() => loadConfig({ ALLOWED_HOSTS: ' , ' })).toThrow(/ALLOWED_HOSTS: must list at least one host/);
  });
});

describe('login throttling per address (password spraying)', () => {
  it('allows 10 failing usernames per address in 15 minutes by default, configurable', () => {
    expect(loadConfig({}).auth).toMatchObject({ loginAddressMaxUsernames: 10, loginAddressWindowSeconds: 900 });
    expect(loadConfig({ LOGIN_ADDRESS_MAX_USERNAMES: '25', LOGIN_ADDRESS_WINDOW_SECONDS: '3600' }).auth).toMatchObject({ loginAddressMaxUsernames: 25, loginAddressWindowSeconds: 3600 });
    expect(() => loadConfig({ LOGIN_ADDRESS_MAX_USERNAMES: '0' })).toThrow(/LOGIN_ADDRESS_MAX_USERNAMES/);
    expect(() => loadConfig({ LOGIN_ADDRESS_WINDOW_SECONDS: 'long' })).toThrow(/LOGIN_ADDRESS_WINDOW_SECONDS: must be a number/);
  });
});
