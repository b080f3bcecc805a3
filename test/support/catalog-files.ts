import type { components } from '../../generated/openapi';
import type { TestApp } from './app';
import { eventually } from './checkout';

export type CatalogImport = components['schemas']['CatalogImport'];

/** The export's CSV columns, in order (docs/catalog-import.md). */
export const COLUMNS = [
  'product_sku', 'name', 'slug', 'description', 'brand', 'category', 'category_slug', 'vendor', 'tax_class', 'is_active', 'images',
  'sku', 'variant_name', 'attributes', 'price', 'currency', 'stock', 'weight_grams', 'variant_is_active',
];

/** A CSV file from a header and rows of cells (cells quoted when they need it). */
export function csv(header: string[], rows: (string | number | boolean)[][]): string {
  const quote = (v: string | number | boolean) => {
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(quote).join(',')).join('\n') + '\n';
}

/** Uploads a file as the raw body of `POST /api/product/import/`. */
export async function upload(app: TestApp, token: string | null, body: string | Buffer, contentType = 'text/csv') {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${app.baseUrl}/api/product/import/`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const json = (await res.json()) as CatalogImport & { code?: string; errors?: { field: string; message: string }[] };
  return { status: res.status, body: json, location: res.headers.get('location') };
}

/** `GET /api/product/export/` as a file: its status, headers and text. */
export async function download(app: TestApp, token: string | null, query: Record<string, string | string[]> = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${app.baseUrl}/api/product/export/${params.size ? `?${params}` : ''}`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), text: await res.text() };
}

/** Reads an import through the API until it has finished (succeeded or failed). */
export async function finished(app: TestApp, token: string, id: number, timeoutMs = 60_000): Promise<CatalogImport> {
  const read = async () => (await app.as(token).GET('/api/product/import/{id}/', { params: { path: { id } } })).data!;
  const done = await eventually(read, (i) => i?.status === 'succeeded' || i?.status === 'failed', timeoutMs);
  if (done.status !== 'succeeded' && done.status !== 'failed') throw new Error(`import ${id} is still ${done.status}`);
  return done;
}
