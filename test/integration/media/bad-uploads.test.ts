import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct, type MadeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { rawRequest } from '../../support/raw-http';
import { filesUnder, image, upload, type UploadOptions } from '../../support/media';

/**
 * Bad uploads: each is a clear 4xx with a stable code naming `body.file`, and leaves nothing
 * behind: no file under MEDIA_ROOT, no row.
 */
const MAX_BYTES = 300_000;
let app: TestApp;
let root: string;
let vendor: Actor;
let p: MadeProduct;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'media-bad-'));
  app = await startApp({ MEDIA_ROOT: root, MEDIA_MAX_BYTES: String(MAX_BYTES) });
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  p = await makeProduct(vendor, (await makeCategory(admin)).id);
});
afterAll(() => app.close());

afterEach(async () => {
  // Nothing of a refused upload stays behind.
  expect(await filesUnder(root)).toEqual([]);
  expect(await sql(app, 'select id from product_media')).toEqual([]);
  expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.images).toEqual([]);
});

async function refused(bytes: Buffer | null, options: UploadOptions = {}) {
  const res = await upload(app, p.id, bytes, { token: vendor.tokens.access, ...options });
  return { status: res.status, code: res.body?.code as string, fields: [...new Set((res.body?.errors ?? []).map((e: { field: string }) => e.field))] };
}
const fileProblem = (status: number, code: string) => ({ status, code, fields: ['body.file'] });

/** A PNG chunk: length, type, data, CRC over type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** `png` with a chunk inserted before IEND (the last 12 bytes). */
const withChunk = (png: Buffer, chunk: Buffer) => Buffer.concat([png.subarray(0, png.length - 12), chunk, png.subarray(png.length - 12)]);
/** `jpeg` with a comment segment right after SOI. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const data = Buffer.from(text, 'latin1');
  const header = Buffer.from([0xff, 0xfe, 0, 0]);
  header.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, data, jpeg.subarray(2)]);
}
/** The smallest zip archive: an empty one (its end-of-central-directory record). */
const EMPTY_ZIP = Buffer.concat([Buffer.from('PK\u0005\u0006', 'latin1'), Buffer.alloc(18)]);

describe('wrong type (415 UNSUPPORTED_IMAGE_TYPE), whatever the name or declared type says', () => {
  it('a text file named .png and declared image/png', async () => {
    expect(await refused(Buffer.from('just some text, honestly\n'), { name: 'photo.png', type: 'image/png' })).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
  });
  it('a GIF, a TIFF and an SVG (one with a script)', async () => {
    expect(await refused(await image('gif', 40, 40), { name: 'a.png' })).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
    expect(await refused(await image('tiff', 40, 40), { name: 'a.jpg', type: 'image/jpeg' })).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    expect(await refused(svg, { name: 'a.svg', type: 'image/svg+xml' })).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
  });
  it('an empty file, and a PNG signature with nothing readable after it', async () => {
    expect(await refused(Buffer.alloc(0))).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
    const png = await image('png', 20, 20);
    // A well-formed chunk structure whose header chunk is not IHDR: sharp cannot read it.
    expect(await refused(Buffer.concat([png.subarray(0, 8), pngChunk('IEND', Buffer.alloc(0))]))).toEqual(fileProblem(415, 'UNSUPPORTED_IMAGE_TYPE'));
  });
  it('a body that is not multipart/form-data (415 UNSUPPORTED_MEDIA_TYPE)', async () => {
    const res = await fetch(`${app.baseUrl}/api/product/${p.id}/media/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vendor.tokens.access}`, 'content-type': 'application/json' },
      body: JSON.stringify({ file: 'aGVsbG8=' }),
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });
});

describe('truncated or corrupt (422 IMAGE_TRUNCATED)', () => {
  it.each(['png', 'jpeg', 'webp'] as const)('a %s cut short', async (format) => {
    const bytes = await image(format, 300, 200);
    expect(await refused(bytes.subarray(0, Math.floor(bytes.length * 0.6)))).toEqual(fileProblem(422, 'IMAGE_TRUNCATED'));
  });
  it('a PNG whose image data is damaged in the middle (its structure intact)', async () => {
    const png = await image('png', 300, 200);
    const damaged = Buffer.from(png);
    for (let i = Math.floor(png.length / 2); i < Math.floor(png.length / 2) + 64; i += 1) damaged[i] = 0;
    expect(await refused(damaged)).toEqual(fileProblem(422, 'IMAGE_TRUNCATED'));
  });
});

describe('polyglots (422 IMAGE_POLYGLOT)', () => {
  it('a PNG with a zip archive appended', async () => {
    expect(await refused(Buffer.concat([await image('png', 40, 40), EMPTY_ZIP]))).toEqual(fileProblem(422, 'IMAGE_POLYGLOT'));
  });
  it('a PNG, a JPEG and a WebP with HTML appended', async () => {
    const html = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      expect(await refused(Buffer.concat([await image(format, 40, 40), html]))).toEqual(fileProblem(422, 'IMAGE_POLYGLOT'));
    }
  });
  it('markup inside the image: a script in a JPEG comment, PHP in a PNG text chunk', async () => {
    expect(await refused(withComment(await image('jpeg', 40, 40), '<script>alert(1)</script>'), { name: 'a.jpg' })).toEqual(fileProblem(422, 'IMAGE_POLYGLOT'));
    const php = pngChunk('tEXt', Buffer.from('Comment\u0000<?php system($_GET["c"]); ?>', 'latin1'));
    expect(await refused(withChunk(await image('png', 40, 40), php))).toEqual(fileProblem(422, 'IMAGE_POLYGLOT'));
  });
  it('accepts an honest text chunk (the checks are not a blanket refusal of metadata)', async () => {
    const note = pngChunk('tEXt', Buffer.from('Comment\u0000Shot on a sunny day', 'latin1'));
    const res = await upload(app, p.id, withChunk(await image('png', 40, 40), note), { token: vendor.tokens.access });
    expect(res.status).toBe(201);
    // Cleaned up for the check after each test.
    expect((await vendor.api.DELETE('/api/product/{id}/media/{media_id}/', { params: { path: { id: p.id, media_id: res.body.id } } })).response.status).toBe(204);
  });
});

describe('size and pixels', () => {
  it('a file over MEDIA_MAX_BYTES: 413 FILE_TOO_LARGE', async () => {
    const big = await image('png', 600, 600);
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    expect(await refused(big)).toEqual(fileProblem(413, 'FILE_TOO_LARGE'));
  });
  it('a small file with too many pixels (10000x5000, over MEDIA_MAX_PIXELS): 422 IMAGE_DIMENSIONS, never decoded', async () => {
    const huge = await sharp({ create: { width: 10_000, height: 5_000, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png({ compressionLevel: 9, palette: true }).toBuffer();
    expect(huge.length).toBeLessThan(MAX_BYTES);
    expect(await refused(huge)).toEqual(fileProblem(422, 'IMAGE_DIMENSIONS'));
  });
});

describe('the form itself', () => {
  it('no file: 400 naming body.file', async () => {
    expect(await refused(null, { alt: 'Nothing' })).toEqual({ status: 400, code: 'VALIDATION_ERROR', fields: ['body.file'] });
  });
  it('the file in another field: 400 naming both', async () => {
    const res = await refused(await image('png', 20, 20), { field: 'image' });
    expect([res.status, res.code, res.fields.sort()]).toEqual([400, 'VALIDATION_ERROR', ['body.file', 'body.image']]);
  });
  it('two files: 413 TOO_MANY_PARTS', async () => {
    const png = await image('png', 20, 20);
    expect(await refused(png, { extra: [['file', png]] })).toMatchObject({ status: 413, code: 'TOO_MANY_PARTS' });
  });
  it('a malformed multipart body: 400', async () => {
    const res = await rawRequest(app.baseUrl, `/api/product/${p.id}/media/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vendor.tokens.access}`, 'content-type': 'multipart/form-data; boundary=xyz', 'content-length': '30' },
      body: '--xyz\r\nContent-Disposition: fo',
    });
    expect([res.status, (res.json as { code: string }).code]).toEqual([400, 'VALIDATION_ERROR']);
  });
});
