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
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required in production[\s\S]*DATABASE_URL: required/);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop' });
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
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop' });
    expect(prod.jobs.workerInProcess).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', WORKER_IN_PROCESS: 'true' }).jobs.workerInProcess).toBe(true);
    expect(() => loadConfig({ CART_EXPIRY_CRON: 'hourly', SMTP_URL: 'mail.example.com', JOBS_POLL_SECONDS: '0.1' })).toThrow(
      /CART_EXPIRY_CRON: must be a cron expression[\s\S]*JOBS_POLL_SECONDS|JOBS_POLL_SECONDS[\s\S]*CART_EXPIRY_CRON/,
    );
    expect(() => loadConfig({ SMTP_URL: 'mail.example.com' })).toThrow(/SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
  });
});
