import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct, type MadeProduct } from '../../support/catalog';
import { buyer, eventually, placeOrder } from '../../support/checkout';
import { actor, type Actor, sql } from '../../support/factories';
import { startTestWorker, waitForJob, type TestWorker } from '../../support/jobs';
import { filesUnder, image, upload } from '../../support/media';

/**
 * A deleted product's stored files: the `media.purge` job sent in the delete's transaction removes
 * them (local driver here; s3.test.ts does it on a bucket). A product deactivated instead (ordered)
 * keeps them, and a delete that rolls back sends nothing.
 */
const PUBLIC = 'https://shop.example.com/media';
let app: TestApp;
let root: string;
let worker: TestWorker;
let admin: Actor;
let vendor: Actor;
let category: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'media-purge-'));
  app = await startApp({ MEDIA_ROOT: root, MEDIA_PUBLIC_URL: PUBLIC });
  worker = await startTestWorker(app);
  [admin, vendor] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor')]);
  category = (await makeCategory(admin)).id;
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

type Media = Record<string, any>;
const folderOf = (productId: number) => join(root, 'products', String(productId));
const deleteProduct = async (productId: number, who: Actor = vendor) =>
  (await who.api.DELETE('/api/product/{id}/', { params: { path: { id: productId } } })).response.status;
const purgeJobs = (productId: number) =>
  sql<{ id: string; keys: string[] }>(app, `select id, data->'keys' as keys from pgboss.job where name = 'media.purge' and (data->>'productId')::int = ?`, [productId]);

/** A product with `count` uploaded images, waited for until their variants are made (3 files each). */
async function productWithMedia(count: number): Promise<{ p: MadeProduct; media: Media[] }> {
  const p = await makeProduct(vendor, category);
  for (let i = 0; i < count; i += 1) {
    const res = await upload(app, p.id, await image(i % 2 ? 'jpeg' : 'png', 40 + i, 30), { token: vendor.tokens.access, name: i % 2 ? 'x.jpg' : 'x.png' });
    expect(res.status).toBe(201);
  }
  const page = await eventually(
    () => admin.api.GET('/api/product/{id}/media/', { params: { path: { id: p.id } } }),
    (r) => r.data?.results.length === count && r.data.results.every((m) => m.status === 'ready'),
    30_000,
  );
  expect(page.data!.results.map((m) => m.status)).toEqual(Array(count).fill('ready'));
  expect(await filesUnder(folderOf(p.id))).toHaveLength(3 * count);
  return { p, media: page.data!.results };
}

/** The one purge job sent for the product, once the worker finished it. */
async function purgeJobDone(productId: number): Promise<{ id: string; keys: string[] }> {
  const jobs = await purgeJobs(productId);
  expect(jobs).toHaveLength(1);
  const job = await waitForJob(worker.queue, 'media.purge', jobs[0]!.id);
  expect(job.state).toBe('completed');
  return jobs[0]!;
}

it('deleting a product removes its stored files (originals and variants) once the job ran; other products keep theirs', async () => {
  const { p, media } = await productWithMedia(2);
  const other = await productWithMedia(1);
  expect(await deleteProduct(p.id)).toBe(204);
  expect(await sql(app, 'select id from products where id = ?', [p.id])).toEqual([]);
  expect(await sql(app, 'select id from product_media where product_id = ?', [p.id])).toEqual([]);

  const job = await purgeJobDone(p.id);
  // The keys the media rows held, each original with its two variants.
  const originals = media.map((m) => (m.url as string).slice(PUBLIC.length + 1));
  expect([...job.keys].sort()).toEqual(originals.flatMap((k) => [k, k.replace(/\.[a-z]+$/, '-thumb.webp'), k.replace(/\.[a-z]+$/, '-medium.webp')]).sort());
  expect(await filesUnder(folderOf(p.id))).toEqual([]);
  expect((await fetch(`${app.baseUrl}/media/${originals[0]}`)).status).toBe(404);
  expect(await filesUnder(folderOf(other.p.id))).toHaveLength(3);

  // Idempotent: a second run (a retry after a lost completion) finds nothing to delete and is fine.
  expect(await app.services.media.purge(app.orm.em.fork(), p.id, job.keys)).toBe('purged');
});

it('an ordered product is deactivated instead: it keeps its media and their files (the job does nothing)', async () => {
  const { p, media } = await productWithMedia(2);
  await placeOrder(await buyer(app, [{ variant: p.variants[0].id }]));
  expect(await deleteProduct(p.id)).toBe(204);
  expect(await sql(app, 'select is_active from products where id = ?', [p.id])).toEqual([{ is_active: false }]);

  const job = await purgeJobDone(p.id);
  expect(job.keys).toHaveLength(6);
  expect(await filesUnder(folderOf(p.id))).toHaveLength(6);
  const kept = await admin.api.GET('/api/product/{id}/media/', { params: { path: { id: p.id } } });
  expect(kept.data!.results.map((m) => m.id)).toEqual(media.map((m) => m.id));
  expect((await fetch(`${app.baseUrl}/media/${(media[0]!.url as string).slice(PUBLIC.length + 1)}`)).status).toBe(200);
  // Run again while the product exists: still nothing removed.
  expect(await app.services.media.purge(app.orm.em.fork(), p.id, job.keys)).toBe('kept');
  expect(await filesUnder(folderOf(p.id))).toHaveLength(6);
});

it('a delete that rolls back sends no job and leaves the product, its media and files', async () => {
  const { p } = await productWithMedia(1);
  const principal = { id: admin.user.id, username: admin.user.username, role: admin.user.role };
  await expect(
    app.orm.em.fork().transactional(async (tx) => {
      await app.services.products.delete(tx, principal, p.id);
      // The delete and its job are written in this transaction, which then fails.
      const sent = await tx.execute(`select id from pgboss.job where name = 'media.purge' and (data->>'productId')::int = ?`, [p.id]);
      expect(sent).toHaveLength(1);
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect(await sql(app, 'select id from products where id = ?', [p.id])).toEqual([{ id: p.id }]);
  expect(await sql(app, 'select count(*)::int as n from product_media where product_id = ?', [p.id])).toEqual([{ n: 1 }]);
  expect(await purgeJobs(p.id)).toEqual([]);
  expect(await filesUnder(folderOf(p.id))).toHaveLength(3);
});

it('a product without media sends no job', async () => {
  const p = await makeProduct(vendor, category);
  expect(await deleteProduct(p.id, admin)).toBe(204);
  expect(await sql(app, 'select id from products where id = ?', [p.id])).toEqual([]);
  expect(await purgeJobs(p.id)).toEqual([]);
});

it('a product deleted right after an upload, before its resize ran, leaves no file either', async () => {
  const p = await makeProduct(vendor, category);
  const res = await upload(app, p.id, await image('png', 64, 64), { token: vendor.tokens.access });
  expect(res.status).toBe(201);
  expect(await deleteProduct(p.id)).toBe(204);
  await purgeJobDone(p.id);
  // The resize job either found its media gone, or removes the variants it wrote meanwhile.
  const resize = await sql<{ id: string }>(app, `select id from pgboss.job where name = 'media.resize' and (data->>'mediaId')::int = ?`, [res.body.id]);
  expect(resize).toHaveLength(1);
  expect((await waitForJob(worker.queue, 'media.resize', resize[0]!.id)).state).toBe('completed');
  expect(await filesUnder(folderOf(p.id))).toEqual([]);
});
