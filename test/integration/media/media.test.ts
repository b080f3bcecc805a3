import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct, type MadeProduct } from '../../support/catalog';
import { eventually } from '../../support/checkout';
import { actor, type Actor, sql } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { filesUnder, image, upload, type UploadOptions } from '../../support/media';

/** Product media on the local driver: stored under MEDIA_ROOT, served under /media/, resized by the job. */
const PUBLIC = 'https://shop.example.com/media';
let app: TestApp;
let root: string;
let worker: TestWorker;
let admin: Actor;
let vendor: Actor;
let otherVendor: Actor;
let customer: Actor;
let category: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'media-local-'));
  app = await startApp({ MEDIA_ROOT: root, MEDIA_PUBLIC_URL: PUBLIC, MEDIA_MAX_PER_PRODUCT: '4' });
  worker = await startTestWorker(app);
  [admin, vendor, otherVendor, customer] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app, 'vendor'), actor(app, 'customer')]);
  category = (await makeCategory(admin)).id;
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

type Media = Record<string, any>;
/** The app's own URL for a public media URL (the test's PUBLIC base is not served anywhere). */
const local = (url: string) => url.replace(PUBLIC, `${app.baseUrl}/media`);
const keyOf = (url: string) => url.slice(PUBLIC.length + 1);
const product = (seller: Actor = vendor, overrides = {}) => makeProduct(seller, category, overrides);
const list = (productId: number, token?: string, query: Record<string, string> = {}) =>
  fetch(`${app.baseUrl}/api/product/${productId}/media/?${new URLSearchParams(query)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, any>,
  }));
const send = (method: 'PATCH' | 'DELETE', productId: number, mediaId: number, token: string | undefined, body?: unknown) =>
  fetch(`${app.baseUrl}/api/product/${productId}/media/${mediaId}/`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: r.status === 204 ? undefined : ((await r.json()) as Record<string, any>) }));
const images = async (productId: number) => (await admin.api.GET('/api/product/{id}/', { params: { path: { id: productId } } })).data!.images;

/** Waits until the job made every media of the product ready (the worker polls every half second). */
async function ready(productId: number, count: number): Promise<Media[]> {
  const page = await eventually(
    () => list(productId, admin.tokens.access),
    (p) => p.body.results.length === count && p.body.results.every((m: Media) => m.status === 'ready'),
    30_000,
  );
  expect(page.body.results.map((m: Media) => m.status)).toEqual(Array(count).fill('ready'));
  return page.body.results as Media[];
}

async function uploaded(p: MadeProduct, bytes: Buffer, options: UploadOptions = {}): Promise<Media> {
  const res = await upload(app, p.id, bytes, { token: vendor.tokens.access, ...options });
  expect(res.status).toBe(201);
  return res.body;
}

describe('uploading', () => {
  it('stores the original under MEDIA_ROOT and serves it under /media/ with its type, nosniff and a year-long immutable cache', async () => {
    const p = await product();
    const bytes = await image('png', 320, 240);
    const res = await upload(app, p.id, bytes, { token: vendor.tokens.access, alt: 'Side view', name: 'whatever.gif', type: 'application/octet-stream' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      product: p.id,
      alt: 'Side view',
      position: 0,
      width: 320,
      height: 240,
      content_type: 'image/png',
      size_bytes: bytes.length,
      status: 'processing',
      variants: { thumbnail: null, medium: null },
    });
    // The key is the product's folder and a random name with the type found in the content.
    expect(res.body.url).toMatch(new RegExp(`^${PUBLIC}/products/${p.id}/[A-Za-z0-9_-]{16}\\.png$`));
    expect(await readFile(join(root, keyOf(res.body.url)))).toEqual(bytes);

    const served = await fetch(local(res.body.url));
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(bytes);
    // A key that holds nothing is a plain 404, and nothing outside the folder is reachable.
    expect((await fetch(`${app.baseUrl}/media/products/${p.id}/nothing.png`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/media/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('makes the thumbnail and medium WebP variants in the job, then the image is ready and joins the product images', async () => {
    const p = await product();
    const wide = await uploaded(p, await image('jpeg', 1000, 500), { name: 'a.jpg', type: 'image/jpeg' });
    const tall = await uploaded(p, await image('webp', 300, 900), { name: 'b.webp', type: 'image/webp' });
    expect([wide.content_type, tall.content_type]).toEqual(['image/jpeg', 'image/webp']);
    expect([wide.position, tall.position]).toEqual([0, 1]);

    const [w, t] = await ready(p.id, 2);
    expect(w!.variants.thumbnail).toBe(wide.url.replace(/\.jpg$/, '-thumb.webp'));
    expect(w!.variants.medium).toBe(wide.url.replace(/\.jpg$/, '-medium.webp'));
    const dims = async (url: string) => {
      const res = await fetch(local(url));
      expect(res.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      return `${meta.format} ${meta.width}x${meta.height}`;
    };
    // Fit inside 200x200 and 800x800, never enlarged.
    expect(await dims(w!.variants.thumbnail)).toBe('webp 200x100');
    expect(await dims(w!.variants.medium)).toBe('webp 800x400');
    expect(await dims(t!.variants.thumbnail)).toBe('webp 67x200');
    expect(await dims(t!.variants.medium)).toBe('webp 267x800');
    expect(await images(p.id)).toEqual([wide.url, tall.url]);

    // Idempotent: a second run writes the same keys again.
    const before = await filesUnder(join(root, 'products', String(p.id)));
    expect(before).toHaveLength(6);
    expect(await app.services.media.resize(app.orm.em.fork(), wide.id)).toBe('ready');
    expect(await filesUnder(join(root, 'products', String(p.id)))).toEqual(before);
    expect((await list(p.id)).body.results).toEqual([w, t]);
  });

  it('puts an upload at the position given (the others move down) and refuses one past the end', async () => {
    const p = await product();
    const first = await uploaded(p, await image('png', 40, 40));
    const second = await uploaded(p, await image('png', 41, 41), { position: 0 });
    expect(second.position).toBe(0);
    const past = await upload(app, p.id, await image('png', 42, 42), { token: vendor.tokens.access, position: 3 });
    expect(past.status).toBe(400);
    expect(past.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'body.position' }] });
    const results = (await list(p.id, vendor.tokens.access)).body.results as Media[];
    expect(results.map((m) => [m.id, m.position])).toEqual([
      [second.id, 0],
      [first.id, 1],
    ]);
    await ready(p.id, 2);
    expect(await filesUnder(join(root, 'products', String(p.id)))).toHaveLength(6);
  });

  it('refuses more than MEDIA_MAX_PER_PRODUCT media with 409, storing nothing', async () => {
    const p = await product();
    for (let i = 0; i < 4; i += 1) await uploaded(p, await image('png', 30 + i, 30));
    const files = await filesUnder(root);
    const res = await upload(app, p.id, await image('png', 50, 50), { token: vendor.tokens.access });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('MEDIA_LIMIT_REACHED');
    await ready(p.id, 4);
    const [row] = await sql<{ n: number }>(app, 'select count(*)::int as n from product_media where product_id = ?', [p.id]);
    expect(row?.n).toBe(4);
    expect((await filesUnder(root)).filter((f) => !files.includes(f) && !/-(thumb|medium)\.webp$/.test(f))).toEqual([]);
  });

  it('parallel uploads: no more than the limit get in, positions stay 0..n-1, and the refused leave no file', async () => {
    const p = await product();
    const bytes = await Promise.all(Array.from({ length: 7 }, (_, i) => image('png', 30 + i, 30)));
    const answers = await Promise.all(bytes.map((b) => upload(app, p.id, b, { token: vendor.tokens.access, position: 0 })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 409, 409, 409]);
    const media = await ready(p.id, 4);
    expect(media.map((m) => m.position)).toEqual([0, 1, 2, 3]);
    // Only the four stored originals and their variants; every refused upload's object is gone.
    const folder = await filesUnder(join(root, 'products', String(p.id)));
    expect(folder.filter((f) => !/-(thumb|medium)\.webp$/.test(f)).sort()).toEqual(media.map((m) => keyOf(m.url).split('/').pop()).sort());
    expect(folder).toHaveLength(12);
    expect(await images(p.id)).toEqual(media.map((m) => m.url));
  });

  it('also uploads through the typed client (a FormData body)', async () => {
    const p = await product();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await image('png', 64, 48))]), 'x.png');
    form.append('alt', 'Typed');
    const { data, response } = await vendor.api.POST('/api/product/{id}/media/', {
      params: { path: { id: p.id } },
      body: { file: '' },
      bodySerializer: () => form,
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ product: p.id, alt: 'Typed', width: 64, height: 48, content_type: 'image/png' });
  });
});

describe('listing', () => {
  it('is public for a listed product, by position, with cursor pages', async () => {
    const p = await product();
    const a = await uploaded(p, await image('png', 20, 20));
    const b = await uploaded(p, await image('png', 21, 21));
    const c = await uploaded(p, await image('png', 22, 22));
    const first = await list(p.id, undefined, { page_size: '2' });
    expect(first.status).toBe(200);
    expect(first.body.results.map((m: Media) => m.id)).toEqual([a.id, b.id]);
    expect(first.body.previous).toBeNull();
    const second = await fetch(first.body.next as string).then((r) => r.json() as Promise<Media>);
    expect(second.results.map((m: Media) => m.id)).toEqual([c.id]);
    expect(second.next).toBeNull();
    const numbered = await list(p.id, undefined, { page: '1', page_size: '2' });
    expect(numbered.body.count).toBe(3);
    expect((await list(p.id, undefined, { cursor: 'nonsense' })).body.code).toBe('INVALID_CURSOR');
  });

  it("shows an inactive product's media to its vendor and admins only; an unknown product is 404", async () => {
    const p = await product(vendor, { is_active: false });
    await uploaded(p, await image('png', 20, 20));
    expect((await list(p.id, vendor.tokens.access)).body.results).toHaveLength(1);
    expect((await list(p.id, admin.tokens.access)).body.results).toHaveLength(1);
    for (const token of [undefined, customer.tokens.access, otherVendor.tokens.access]) {
      const res = await list(p.id, token);
      expect([res.status, res.body.code]).toEqual([404, 'NOT_FOUND']);
    }
    expect((await list(999999)).status).toBe(404);
    expect((await list(p.id, 'not.a.token')).body.code).toBe('INVALID_TOKEN');
  });
});

describe('ordering, alt text and deletion', () => {
  it('moves an image: the others are renumbered 0..n-1 and the product images follow; alt changes alone', async () => {
    const p = await product();
    const a = await uploaded(p, await image('png', 20, 20));
    const b = await uploaded(p, await image('png', 21, 21));
    const c = await uploaded(p, await image('png', 22, 22));
    await ready(p.id, 3);
    expect(await images(p.id)).toEqual([a.url, b.url, c.url]);

    const moved = await send('PATCH', p.id, c.id, vendor.tokens.access, { position: 0, alt: 'Front' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: c.id, position: 0, alt: 'Front', status: 'ready' });
    const order = async () => ((await list(p.id)).body.results as Media[]).map((m) => [m.id, m.position]);
    expect(await order()).toEqual([
      [c.id, 0],
      [a.id, 1],
      [b.id, 2],
    ]);
    expect(await images(p.id)).toEqual([c.url, a.url, b.url]);

    expect((await send('PATCH', p.id, c.id, admin.tokens.access, { position: 2 })).body?.position).toBe(2);
    expect(await order()).toEqual([
      [a.id, 0],
      [b.id, 1],
      [c.id, 2],
    ]);
    expect(await images(p.id)).toEqual([a.url, b.url, c.url]);
    const alt = await send('PATCH', p.id, b.id, vendor.tokens.access, { alt: '' });
    expect(alt.body).toMatchObject({ alt: '', position: 1 });
  });

  it('deletes an image with its stored files (original and variants); the others move up and the product images follow', async () => {
    const p = await product();
    const a = await uploaded(p, await image('png', 20, 20));
    const b = await uploaded(p, await image('jpeg', 21, 21), { name: 'b.jpg' });
    const c = await uploaded(p, await image('png', 22, 22));
    await ready(p.id, 3);
    const folder = join(root, 'products', String(p.id));
    expect(await filesUnder(folder)).toHaveLength(9);

    expect((await send('DELETE', p.id, b.id, vendor.tokens.access)).status).toBe(204);
    const left = (await list(p.id)).body.results as Media[];
    expect(left.map((m) => [m.id, m.position])).toEqual([
      [a.id, 0],
      [c.id, 1],
    ]);
    expect(await images(p.id)).toEqual([a.url, c.url]);
    const name = keyOf(b.url).split('/').pop()!.replace(/\.jpg$/, '');
    expect((await filesUnder(folder)).filter((f) => f.startsWith(name))).toEqual([]);
    expect(await filesUnder(folder)).toHaveLength(6);
    expect((await fetch(local(b.url))).status).toBe(404);

    await send('DELETE', p.id, a.id, admin.tokens.access);
    await send('DELETE', p.id, c.id, vendor.tokens.access);
    expect(await images(p.id)).toEqual([]);
    expect(await filesUnder(folder)).toEqual([]);
    expect((await send('DELETE', p.id, c.id, vendor.tokens.access)).status).toBe(404);
  });

  it("a product with media gets its images from them: a PATCH of images is 409 IMAGES_FROM_MEDIA (without media it is taken)", async () => {
    const p = await product();
    const set = (images: string[]) => vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { images } });
    expect((await set(['https://cdn.example.com/a.jpg'])).data!.images).toEqual(['https://cdn.example.com/a.jpg']);
    const m = await uploaded(p, await image('png', 20, 20));
    const refused = await set(['https://cdn.example.com/b.jpg']);
    expect([refused.response.status, refused.error]).toEqual([409, expect.objectContaining({ code: 'IMAGES_FROM_MEDIA', errors: [expect.objectContaining({ field: 'body.images' })] })]);
    // The first media change replaces the hand-set URLs with the ready media's.
    await ready(p.id, 1);
    expect(await images(p.id)).toEqual([m.url]);
    await send('DELETE', p.id, m.id, vendor.tokens.access);
    expect(await images(p.id)).toEqual([]);
    expect((await set(['https://cdn.example.com/c.jpg'])).response.status).toBe(200);
  });

  it('a media deleted before its job ran leaves nothing behind: the job has nothing to do', async () => {
    const p = await product();
    const m = await uploaded(p, await image('png', 30, 30));
    expect((await send('DELETE', p.id, m.id, vendor.tokens.access)).status).toBe(204);
    expect(await app.services.media.resize(app.orm.em.fork(), m.id)).toBe('gone');
    const folder = join(root, 'products', String(p.id));
    expect(await eventually(() => filesUnder(folder), (f) => f.length === 0, 10_000)).toEqual([]);
    expect(await images(p.id)).toEqual([]);
  });

  it('a deleted product takes its media rows with it (the job then has nothing to do)', async () => {
    const p = await product();
    const m = await uploaded(p, await image('png', 30, 30));
    expect((await vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
    expect(await sql(app, 'select id from product_media where id = ?', [m.id])).toEqual([]);
    expect(await app.services.media.resize(app.orm.em.fork(), m.id)).toBe('gone');
  });
});

describe('who may change media', () => {
  let p: MadeProduct;
  let hidden: MadeProduct;
  let m: Media;
  let h: Media;
  beforeAll(async () => {
    p = await product();
    hidden = await product(vendor, { is_active: false });
    m = await uploaded(p, await image('png', 20, 20));
    h = await uploaded(hidden, await image('png', 20, 20));
  });

  it('upload: anonymous 401, customer 403, another vendor 403 NOT_OWNER (404 on an inactive product), admin 201, unknown product 404', async () => {
    const bytes = await image('png', 24, 24);
    const answer = async (productId: number, token?: string) => {
      const res = await upload(app, productId, bytes, { token });
      return `${res.status} ${res.body.code ?? ''}`;
    };
    expect(await answer(p.id)).toBe('401 NOT_AUTHENTICATED');
    expect(await answer(p.id, customer.tokens.access)).toBe('403 FORBIDDEN');
    expect(await answer(p.id, otherVendor.tokens.access)).toBe('403 NOT_OWNER');
    expect(await answer(hidden.id, otherVendor.tokens.access)).toBe('404 NOT_FOUND');
    expect(await answer(999999, admin.tokens.access)).toBe('404 NOT_FOUND');
    expect(await answer(p.id, admin.tokens.access)).toBe('201 ');
  });

  it('change and delete: the same rules; a media of another product, or none, is 404', async () => {
    for (const method of ['PATCH', 'DELETE'] as const) {
      const body = method === 'PATCH' ? { alt: 'x' } : undefined;
      const answer = async (productId: number, mediaId: number, token?: string) => {
        const res = await send(method, productId, mediaId, token, body);
        return `${res.status} ${res.body?.code ?? ''}`;
      };
      expect(await answer(p.id, m.id)).toBe('401 NOT_AUTHENTICATED');
      expect(await answer(p.id, m.id, customer.tokens.access)).toBe('403 FORBIDDEN');
      expect(await answer(p.id, m.id, otherVendor.tokens.access)).toBe('403 NOT_OWNER');
      expect(await answer(hidden.id, h.id, otherVendor.tokens.access)).toBe('404 NOT_FOUND');
      expect(await answer(p.id, h.id, vendor.tokens.access)).toBe('404 NOT_FOUND');
      expect(await answer(p.id, 999999, admin.tokens.access)).toBe('404 NOT_FOUND');
    }
    expect((await send('PATCH', p.id, m.id, admin.tokens.access, { alt: 'By admin' })).body?.alt).toBe('By admin');
    expect((await list(p.id)).body.results.find((x: Media) => x.id === m.id).alt).toBe('By admin');
  });
});

describe('bad changes', () => {
  it('PATCH: 400 naming each bad field, and nothing changes', async () => {
    const p = await product();
    const m = await uploaded(p, await image('png', 20, 20), { alt: 'Kept' });
    const cases: [unknown, string][] = [
      [{ position: 1 }, 'body.position'],
      [{ position: -1 }, 'body.position'],
      [{ position: 'first' }, 'body.position'],
      [{ alt: 'x'.repeat(301) }, 'body.alt'],
      [{ alt: 7 }, 'body.alt'],
      [{ colour: 'red' }, 'body.colour'],
      [{}, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await send('PATCH', p.id, m.id, vendor.tokens.access, body);
      expect([res.status, res.body?.code, res.body?.errors.map((e: { field: string }) => e.field)]).toEqual([400, 'VALIDATION_ERROR', [field]]);
    }
    const res = await send('PATCH', 'x' as unknown as number, m.id, vendor.tokens.access, { alt: 'y' });
    expect(res.body?.errors.map((e: { field: string }) => e.field)).toEqual(['path.id']);
    expect((await list(p.id)).body.results[0]).toMatchObject({ alt: 'Kept', position: 0 });
  });

  it('upload: a bad alt or position is a 400 naming it, and nothing is stored', async () => {
    const p = await product();
    // Every key of a product's media is under its folder (other tests' jobs may be removing theirs).
    const folder = join(root, 'products', String(p.id));
    for (const [options, field] of [
      [{ position: 'first' }, 'body.position'],
      [{ position: '-1' }, 'body.position'],
      [{ position: '007' }, 'body.position'],
      [{ alt: 'x'.repeat(301) }, 'body.alt'],
      [{ extra: [['colour', 'red']] }, 'body.colour'],
    ] as [UploadOptions, string][]) {
      const res = await upload(app, p.id, await image('png', 20, 20), { token: vendor.tokens.access, ...options });
      const fields = new Set(res.body.errors.map((e: { field: string }) => e.field));
      expect([res.status, res.body.code, [...fields]]).toEqual([400, 'VALIDATION_ERROR', [field]]);
    }
    expect(await filesUnder(folder)).toEqual([]);
    expect((await list(p.id)).body.results).toEqual([]);
  });
});
