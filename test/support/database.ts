import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Set by the global setup for every test worker. */
export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL;
  if (!url) throw new Error('TEST_DATABASE_ADMIN_URL is not set: run the tests through jest (npm test)');
  return url;
}

export function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database cloned from the migrated template: one per test file, so files run in parallel. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const template = process.env.TEST_TEMPLATE_DB!;
  const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (c) => {
    // Two clones of one template at the same instant can collide ("source database is being accessed").
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database "${name}" template "${template}"`);
        return;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return {
    url: databaseUrl(adminUrl(), name),
    drop: () => withAdmin(async (c) => void (await c.query(`drop database if exists "${name}" with (force)`))),
  };
}
