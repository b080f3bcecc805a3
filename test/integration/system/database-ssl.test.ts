import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../../src/config';
import { ormOptions } from '../../../src/orm.config';
import { createTestDatabase, withAdmin } from '../../support/database';
import { firstOf } from '../../support/narrow';

/**
 * MikroORM drops the query string of the client URL, so `?sslmode=require` alone would never reach
 * pg. These tests connect for real and show that the TLS setting does reach the driver: against a
 * server without TLS the connection is refused for that reason; against one with TLS it is encrypted.
 */
describe('TLS to the database', () => {
  let db: { url: string; drop(): Promise<void> };
  let serverHasTls: boolean;
  beforeAll(async () => {
    db = await createTestDatabase();
    serverHasTls = await withAdmin(async (c) => firstOf((await c.query<{ ssl: string }>('show ssl')).rows).ssl === 'on');
  });
  afterAll(() => db.drop());

  async function connect(env: Record<string, string>): Promise<{ encrypted: boolean } | { error: string }> {
    const config = loadConfig({ NODE_ENV: 'test', ...env });
    let orm: MikroORM | undefined;
    try {
      orm = await MikroORM.init(ormOptions({ clientUrl: config.database.url!, ssl: config.database.ssl, poolMax: 1 }));
      const row = firstOf(await orm.em.getConnection().execute<{ ssl: boolean }[]>('select ssl from pg_stat_ssl where pid = pg_backend_pid()'));
      return { encrypted: row.ssl };
    } catch (err) {
      return { error: String((err as Error).message) };
    } finally {
      await orm?.close(true);
    }
  }

  it('connects in clear text when TLS is off', async () => {
    expect(await connect({ DATABASE_URL: db.url })).toEqual({ encrypted: false });
  });

  it.each([
    ['DATABASE_SSL=no-verify', (url: string) => ({ DATABASE_URL: url, DATABASE_SSL: 'no-verify' })],
    ['?sslmode=require in DATABASE_URL', (url: string) => ({ DATABASE_URL: `${url}?sslmode=require` })],
  ])('asks for TLS with %s', async (_name, env) => {
    const result = await connect(env(db.url));
    if (serverHasTls) expect(result).toEqual({ encrypted: true });
    else expect(result).toEqual({ error: expect.stringMatching(/does not support SSL/) });
  });
});
