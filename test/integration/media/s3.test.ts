import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { eventually } from '../../support/checkout';
import { actor, type Actor, sql } from '../../support/factories';
import { startTestWorker, waitForJob, type TestWorker } from '../../support/jobs';
import { image, upload } from '../../support/media';

// s3rver ships no types: its constructor, run() and close() are all this test uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };

/**
 * The S3 driver against a real S3-speaking server (s3rver) started here on a free port: objects land
 * in the bucket, variants too, deletion and refusals leave nothing there.
 */
const BUCKET = 'shop-media';
let server: InstanceType<typeof S3rver>;
let directory: string;
let endpoint: string;
let s3: S3Client;
let app: TestApp;
let worker: TestWorker;
let vendor: Actor;
let category: number;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  app = await startApp({
    MEDIA_STORAGE: 's3',
    S3_BUCKET: BUCKET,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
  });
  worker = await startTestWorker(app);
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
  s3?.destroy();
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

const keysIn = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
const head = (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch((err: { name?: string }) => err.name);
const get = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());

it('stores the upload in the bucket, the job adds its variants there, and a delete removes all three', async () => {
  const p = await makeProduct(vendor, category);
  const bytes = await image('jpeg', 900, 600);
  const res = await upload(app, p.id, bytes, { token: vendor.tokens.access, name: 'shoe.jpg', type: 'image/jpeg' });
  expect(res.status).toBe(201);
  // Without MEDIA_PUBLIC_URL the URL is the bucket's own (path style on this endpoint).
  const base = `${endpoint}/${BUCKET}/`;
  expect(res.body.url.startsWith(base)).toBe(true);
  const key = res.body.url.slice(base.length) as string;
  expect(key).toMatch(new RegExp(`^products/${p.id}/[A-Za-z0-9_-]{16}\\.jpg$`));

  const stored = await head(key);
  expect(stored).toMatchObject({ ContentType: 'image/jpeg', ContentLength: bytes.length, CacheControl: 'public, max-age=31536000, immutable' });
  expect(await get(key)).toEqual(bytes);

  const ready = await eventually(
    () => app.api.GET('/api/product/{id}/media/', { params: { path: { id: p.id } } }),
    (r) => r.data?.results[0]?.status === 'ready',
    30_000,
  );
  const media = ready.data!.results[0]!;
  expect(media.variants.thumbnail).toBe(`${base}${key.replace(/\.jpg$/, '-thumb.webp')}`);
  expect(await keysIn(`products/${p.id}/`)).toEqual([key, key.replace(/\.jpg$/, '-medium.webp'), key.replace(/\.jpg$/, '-thumb.webp')].sort());
  const thumb = await sharp(await get(key.replace(/\.jpg$/, '-thumb.webp'))).metadata();
  expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 200, 133]);
  expect(await head(key.replace(/\.jpg$/, '-medium.webp'))).toMatchObject({ ContentType: 'image/webp' });
  expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.images).toEqual([res.body.url]);

  const deleted = await vendor.api.DELETE('/api/product/{id}/media/{media_id}/', { params: { path: { id: p.id, media_id: media.id } } });
  expect(deleted.response.status).toBe(204);
  expect(await keysIn(`products/${p.id}/`)).toEqual([]);
  expect(await head(key)).toBe('NotFound');
  expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.images).toEqual([]);
});

it("deleting a product removes its objects from the bucket once the purge job ran", async () => {
  const p = await makeProduct(vendor, category);
  const kept = await makeProduct(vendor, category);
  for (const id of [p.id, p.id, kept.id]) expect((await upload(app, id, await image('png', 80, 60), { token: vendor.tokens.access })).status).toBe(201);
  for (const [id, n] of [[p.id, 6], [kept.id, 3]] as const) {
    expect((await eventually(() => keysIn(`products/${id}/`), (keys) => keys.length === n, 30_000)).length).toBe(n);
  }
  expect((await vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
  const [job] = await sql<{ id: string }>(app, `select id from pgboss.job where name = 'media.purge' and (data->>'productId')::int = ?`, [p.id]);
  expect((await waitForJob(worker.queue, 'media.purge', job!.id)).state).toBe('completed');
  expect(await keysIn(`products/${p.id}/`)).toEqual([]);
  expect(await keysIn(`products/${kept.id}/`)).toHaveLength(3);
});

it('a refused upload puts nothing in the bucket', async () => {
  const p = await makeProduct(vendor, category);
  const png = await image('png', 60, 60);
  for (const bytes of [Buffer.from('not an image'), png.subarray(0, png.length - 20), Buffer.concat([png, Buffer.from('<?php echo 1; ?>')])]) {
    const res = await upload(app, p.id, bytes, { token: vendor.tokens.access });
    expect(res.status === 415 || res.status === 422).toBe(true);
  }
  expect(await keysIn(`products/${p.id}/`)).toEqual([]);
  expect(await sql(app, 'select id from product_media where product_id = ?', [p.id])).toEqual([]);
});

it('the app does not serve /media/ with the S3 driver (the bucket or its CDN does)', async () => {
  expect((await fetch(`${app.baseUrl}/media/products/1/x.png`)).status).toBe(404);
});
