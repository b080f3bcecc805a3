import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { stagingDirName } from '../../src/db/embedded';
import { createLogger, wantsPrettyLog } from '../../src/logger';

const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) };

describe('HOST', () => {
  it('is 127.0.0.1 in development and test (the demo accounts have published passwords), 0.0.0.0 in production', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig(PRODUCTION).host).toBe('0.0.0.0');
  });

  it('is what HOST says when set', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...PRODUCTION, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
  });
});

describe('the log format', () => {
  it('is readable in development on a terminal, JSON lines everywhere else, unless LOG_FORMAT says', () => {
    expect(wantsPrettyLog(undefined, 'development', true)).toBe(true);
    expect(wantsPrettyLog(undefined, 'development', false)).toBe(false);
    expect(wantsPrettyLog(undefined, 'production', true)).toBe(false);
    expect(wantsPrettyLog('json', 'development', true)).toBe(false);
    expect(wantsPrettyLog('pretty', 'production', false)).toBe(true);
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT: must be json or pretty/);
  });

  it('pretty: one readable line per entry (level, message, fields), secrets still redacted', () => {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const logger = createLogger('info', out, { pretty: true });
    logger.info({ req: { method: 'GET', url: '/api/product/' }, body: { password: 'hunter2' } }, 'GET /api/product/ 200 3ms');
    logger.flush();
    expect(text).toMatch(/INFO.*GET \/api\/product\/ 200 3ms/);
    expect(text).not.toMatch(/^\{/);
    expect(text).not.toContain('hunter2');
    expect(text.trim().split('\n')).toHaveLength(1);
  });
});

describe('the embedded PostgreSQL staging folder (run as root from a folder the postgres user cannot reach)', () => {
  it('has a stable name per data directory, so its data persists between starts', () => {
    expect(stagingDirName('/root/app/.data/postgres', '/var/tmp')).toBe(stagingDirName('/root/app/.data/../.data/postgres', '/var/tmp'));
    expect(stagingDirName('/root/app/.data/postgres', '/var/tmp')).toMatch(/^\/var\/tmp\/ecommerce-postgres-[0-9a-f]{12}$/);
    expect(stagingDirName('/root/other/.data/postgres', '/var/tmp')).not.toBe(stagingDirName('/root/app/.data/postgres', '/var/tmp'));
  });
});
