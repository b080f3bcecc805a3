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
    expect(dev.jobs).toEqual({ workerInProcess: true, concurrency: 2, pollIntervalSeconds: 2, poolMax: 5 });
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

describe('REDIS_TLS', () => {
  it('verifies the certificate of a rediss:// server unless told not to (Heroku Key-Value Store)', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://:p@redis.example.com:6380' }).redisTlsVerify).toBe(true);
    expect(loadConfig({ REDIS_URL: 'rediss://:p@redis.example.com:6380', REDIS_TLS: 'no-verify' }).redisTlsVerify).toBe(false);
    expect(() => loadConfig({ REDIS_TLS: 'off' })).toThrow(/REDIS_TLS: must be verify or no-verify/);
  });
});
