import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { TestApp } from './app';

/** An image made by sharp: noise, so it compresses like a photo. */
export function image(format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff', width = 320, height = 240): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 200 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .toFormat(format)
    .toBuffer();
}

export interface UploadOptions {
  token?: string;
  name?: string;
  type?: string;
  field?: string;
  alt?: string;
  position?: string | number;
  /** More parts, as [field, value] (a second file: a Buffer). */
  extra?: [string, string | Buffer][];
}

/** Uploads through the real app with fetch + FormData, as a browser would. */
export async function upload(app: TestApp, productId: number, bytes: Buffer | null, options: UploadOptions = {}) {
  const form = new FormData();
  if (bytes) form.append(options.field ?? 'file', new Blob([new Uint8Array(bytes)], { type: options.type ?? 'image/png' }), options.name ?? 'photo.png');
  if (options.alt !== undefined) form.append('alt', options.alt);
  if (options.position !== undefined) form.append('position', String(options.position));
  for (const [field, value] of options.extra ?? []) {
    if (typeof value === 'string') form.append(field, value);
    else form.append(field, new Blob([new Uint8Array(value)], { type: 'image/png' }), 'more.png');
  }
  const res = await fetch(`${app.baseUrl}/api/product/${productId}/media/`, {
    method: 'POST',
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    body: form,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** Every file under a folder, as paths relative to it. */
export async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(root, path));
    }
  };
  await walk(root);
  return out.sort();
}
