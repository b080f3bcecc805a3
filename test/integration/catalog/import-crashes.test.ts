import { startApp, type TestApp } from '../../support/app';
import { makeCategory } from '../../support/catalog';
import { csv, upload } from '../../support/catalog-files';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { killedAt, poll, serversFor } from '../../support/processes';

/**
 * A catalog import whose worker is killed (SIGKILL, by an armed failpoint) inside a batch's
 * transaction and right after a batch commits: a batch is applied whole or not at all, with the
 * import's progress, and the job resumes after the last committed batch without applying a row twice.
 */
// Real server processes (tsx compiles the app each time), and a killed worker's job waits for its
// heartbeat to lapse before it is retried: slow on a busy machine.
jest.setTimeout(300_000);

let app: TestApp;
let admin: Actor;
beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
});
afterAll(() => app.close());
const server = serversFor(() => app);

it('applies each batch whole or not at all, shows its progress, and resumes after the last committed batch', async () => {
  const category = await makeCategory(admin);
  const skus = Array.from({ length: 5 }, () => uniqueName('CRASH').toUpperCase());
  const file = csv(['product_sku', 'name', 'category', 'sku', 'price', 'stock'], skus.map((s, i) => [s, `Crash ${i}`, category.id, `${s}-V`, '2.00', i + 1]));
  // The test app only sends jobs: the servers started below work this one.
  const sent = await upload(app, admin.tokens.access, file);
  expect(sent.status).toBe(202);
  const id = sent.body.id;
  const read = async () => (await admin.api.GET('/api/product/import/{id}/', { params: { path: { id } } })).data!;
  const variants = () => sql<{ sku: string; n: number }>(app, 'select sku, count(*)::int as n from product_variants where sku = any(?::text[]) group by sku order by sku', [`{${skus.map((s) => `${s}-V`).join(',')}}`]);
  const env = { CATALOG_IMPORT_BATCH_ROWS: '2', JOBS_SUPERVISE_SECONDS: '1' };

  // Killed with the first batch written but not committed: nothing of it stays.
  const first = await server({ ...env, FAILPOINTS: 'catalog-import.before-commit' });
  await killedAt(first, 'catalog-import.before-commit');
  expect(await read()).toMatchObject({ status: 'running', rows_total: 5, rows_done: 0, created: 0 });
  expect(await variants()).toEqual([]);

  // Killed right after the first batch committed: its two rows are in, with the progress.
  const second = await server({ ...env, FAILPOINTS: 'catalog-import.after-batch' });
  await killedAt(second, 'catalog-import.after-batch');
  expect(await read()).toMatchObject({ status: 'running', rows_total: 5, rows_done: 2, created: 2, rejected: 0 });
  expect((await variants()).map((v) => v.sku)).toEqual([skus[0], skus[1]].map((s) => `${s}-V`).sort());

  // A worker that stays up resumes after row 2: every row once, none twice.
  await server(env);
  const done = await poll(read, (i) => i.status === 'succeeded', 180_000);
  expect(done).toMatchObject({ status: 'succeeded', rows_total: 5, rows_done: 5, created: 5, updated: 0, rejected: 0 });
  expect(await variants()).toEqual(skus.map((s) => ({ sku: `${s}-V`, n: 1 })).sort((a, b) => a.sku.localeCompare(b.sku)));
  const ledger = await sql<{ n: number }>(
    app,
    `select count(*)::int as n from inventory_movements m join product_variants v on v.id = m.variant_id where v.sku = any(?::text[])`,
    [`{${skus.map((s) => `${s}-V`).join(',')}}`],
  );
  expect(ledger).toEqual([{ n: 5 }]);
});
