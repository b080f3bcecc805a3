/**
 * The catalog file formats, read and written: the CSV columns (one row per variant, the product's
 * columns repeated) and JSON Lines (one product per line with its variants), both turned into the
 * same rows. Each value a row gives is checked against the contract's own schema of that field
 * (`ProductCreate`, `VariantInput`: the rules `POST /api/product/` and `POST /api/variant/` apply),
 * through the `FieldRules` port, so there is no second rule set here.
 */
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { ImportFormat } from './catalog-import.entity';

/** The CSV columns, in the export's order. */
export const CSV_COLUMNS = [
  'product_sku', 'name', 'slug', 'description', 'brand', 'category', 'category_slug', 'vendor', 'tax_class', 'is_active', 'images',
  'sku', 'variant_name', 'attributes', 'price', 'currency', 'stock', 'weight_grams', 'variant_is_active',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
/** A file must name these: they say which product and variant each row is (new ones need more, row by row). */
const REQUIRED_COLUMNS: CsvColumn[] = ['product_sku', 'sku'];

/** The product members of a JSON Lines object (its `sku` is the product's SKU). */
const JSON_PRODUCT_KEYS = ['sku', 'name', 'slug', 'description', 'brand', 'category', 'category_slug', 'vendor', 'tax_class', 'is_active', 'images', 'currency', 'variants'];
const JSON_VARIANT_KEYS = ['sku', 'name', 'attributes', 'price', 'stock', 'weight_grams', 'is_active'];

/** Problems of one field: where (`price`, `variants[0].price`) and what. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The contract's rules for one member of a request schema (`ProductCreate`'s `name`...), as issues under `field`. */
export type FieldRules = (schema: 'ProductCreate' | 'VariantInput', member: string, value: unknown, field: string) => FieldIssue[];

/** The product columns a row gives (absent: not given, so left as it is on an update, defaulted on a create). */
export interface ProductValues {
  sku: string;
  name?: string;
  slug?: string;
  description?: string;
  brand?: string;
  /** An id, or a slug (digits are an id). */
  category?: number | string;
  categorySlug?: string;
  vendor?: number;
  taxClass?: string;
  isActive?: boolean;
  images?: string[];
  currency?: string;
}

export interface VariantValues {
  sku: string;
  name?: string;
  attributes?: Record<string, string>;
  price?: string;
  stock?: number;
  weightGrams?: number;
  isActive?: boolean;
}

/** One row of a file after its own checks: the values it gives, or why it is rejected. */
export type ImportRow =
  | { row: number; ok: true; product: ProductValues; variant: VariantValues; field: (name: keyof ProductValues | `variant.${keyof VariantValues}`) => string }
  | { row: number; ok: false; issue: FieldIssue };

/** The whole file is unusable (malformed CSV, a line that is not JSON): the import fails with this. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

const NUL = '\u0000';

/**
 * The problems of a file's first line, cheap enough to check at upload: a CSV header with unknown,
 * repeated or missing columns, or a first JSON line that is not an object. Empty: it looks right.
 */
export function headerIssues(format: ImportFormat, file: Buffer): FieldIssue[] {
  const end = file.indexOf(10);
  const first = file.subarray(0, end === -1 ? Math.min(file.length, 1 << 20) : end).toString('utf8').replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (format === 'jsonl') {
    try {
      const value: unknown = JSON.parse(first);
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? [] : [{ field: 'body', message: 'the first line must be a JSON object (a product)' }];
    } catch {
      return [{ field: 'body', message: 'the first line is not valid JSON' }];
    }
  }
  let header: string[];
  try {
    const records: string[][] = parseSync(first, { to_line: 1, relax_column_count: true });
    header = records[0] ?? [];
  } catch {
    return [{ field: 'body', message: 'the header row is not valid CSV' }];
  }
  return columnIssues(header.map((h) => h.trim()));
}

function columnIssues(header: string[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const known = new Set<string>(CSV_COLUMNS);
  const seen = new Set<string>();
  for (const name of header) {
    if (!known.has(name)) issues.push({ field: `body.${name.slice(0, 80)}`, message: 'is not a column of the import' });
    else if (seen.has(name)) issues.push({ field: `body.${name}`, message: 'is named twice' });
    seen.add(name);
  }
  for (const name of REQUIRED_COLUMNS) if (!seen.has(name)) issues.push({ field: `body.${name}`, message: 'is a required column' });
  return issues;
}

/**
 * The rows of a file, in order, one per variant, each checked on its own (formats and the
 * contract's rules per value). A malformed file throws `ImportFileError` when the reader reaches the
 * fault, so callers count the rows in a first pass before changing anything.
 */
export async function* readRows(format: ImportFormat, file: Buffer, rules: FieldRules): AsyncGenerator<ImportRow> {
  if (format === 'csv') yield* csvRows(file, rules);
  else yield* jsonRows(file, rules);
}

async function* csvRows(file: Buffer, rules: FieldRules): AsyncGenerator<ImportRow> {
  const parser = parse(file, { bom: true, relax_column_count: false, skip_empty_lines: true, info: true });
  let header: string[] | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { records: number; lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        const issues = columnIssues(header);
        if (issues.length) throw new ImportFileError(`The header is not one the import reads: ${issues.map((i) => `${i.field.replace(/^body\./, '')} ${i.message}`).join('; ')}.`);
        continue;
      }
      const cells: Partial<Record<CsvColumn, string>> = {};
      header.forEach((name, i) => {
        const value = record[i];
        if (value !== undefined && value !== '') cells[name as CsvColumn] = value;
      });
      yield csvRow(info.records - 1, cells, rules);
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    const e = err as { code?: string; message?: string; lines?: number };
    throw new ImportFileError(`The file is not valid CSV${e.lines ? ` (line ${e.lines})` : ''}: ${(e.message ?? 'unreadable').slice(0, 300)}`);
  }
  if (!header) throw new ImportFileError('The file is empty: it needs a header row.');
}

/** A cell that cannot be read as its column's type, and why. */
class Unreadable {
  constructor(readonly refused: string) {}
}
const refused = (v: unknown): v is Unreadable => v instanceof Unreadable;

/** Reads a CSV cell into a typed value, or says why it cannot be one. */
function cell<T>(cells: Partial<Record<CsvColumn, string>>, name: CsvColumn, read: (raw: string) => T | Unreadable): { value?: T; issue?: FieldIssue } {
  const raw = cells[name];
  if (raw === undefined) return {};
  const value = read(raw);
  return refused(value) ? { issue: { field: name, message: value.refused } } : { value };
}
const text = (raw: string): string => raw;
const integer = (raw: string): number | Unreadable => {
  const value = raw.trim();
  return /^\d{1,10}$/.test(value) && Number(value) <= 2_147_483_647 ? Number(value) : new Unreadable('must be a whole number');
};
const boolean = (raw: string): boolean | Unreadable => (raw.trim() === 'true' ? true : raw.trim() === 'false' ? false : new Unreadable('must be true or false'));
const images = (raw: string): string[] => raw.split('|').map((u) => u.trim()).filter(Boolean);
const attributes = (raw: string): Record<string, string> | Unreadable => {
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, string>) : new Unreadable('must be a JSON object');
  } catch {
    return new Unreadable('must be a JSON object');
  }
};
/** A category cell or member: digits are an id (as in the product list's filter), anything else a slug. */
const categoryRef = (raw: string): number | string => (/^\d{1,10}$/.test(raw.trim()) ? Number(raw.trim()) : raw);

const CSV_FIELDS: Record<keyof ProductValues | `variant.${keyof VariantValues}`, string> = {
  sku: 'product_sku', name: 'name', slug: 'slug', description: 'description', brand: 'brand', category: 'category', categorySlug: 'category_slug',
  vendor: 'vendor', taxClass: 'tax_class', isActive: 'is_active', images: 'images', currency: 'currency',
  'variant.sku': 'sku', 'variant.name': 'variant_name', 'variant.attributes': 'attributes', 'variant.price': 'price', 'variant.stock': 'stock',
  'variant.weightGrams': 'weight_grams', 'variant.isActive': 'variant_is_active',
};

function csvRow(row: number, cells: Partial<Record<CsvColumn, string>>, rules: FieldRules): ImportRow {
  for (const [name, raw] of Object.entries(cells)) if (raw.includes(NUL)) return { row, ok: false, issue: { field: name, message: 'must not contain the NUL character (U+0000)' } };
  const read = {
    product: {
      sku: cell(cells, 'product_sku', text), name: cell(cells, 'name', text), slug: cell(cells, 'slug', text), description: cell(cells, 'description', text),
      brand: cell(cells, 'brand', text), category: cell(cells, 'category', categoryRef), categorySlug: cell(cells, 'category_slug', text),
      vendor: cell(cells, 'vendor', integer), taxClass: cell(cells, 'tax_class', text), isActive: cell(cells, 'is_active', boolean),
      images: cell(cells, 'images', images), currency: cell(cells, 'currency', text),
    },
    variant: {
      sku: cell(cells, 'sku', text), name: cell(cells, 'variant_name', text), attributes: cell(cells, 'attributes', attributes), price: cell(cells, 'price', text),
      stock: cell(cells, 'stock', integer), weightGrams: cell(cells, 'weight_grams', integer), isActive: cell(cells, 'variant_is_active', boolean),
    },
  };
  for (const part of [read.product, read.variant]) for (const c of Object.values(part)) if (c.issue) return { row, ok: false, issue: c.issue };
  const values = <T extends object>(part: Record<string, { value?: unknown }>): T => Object.fromEntries(Object.entries(part).filter(([, c]) => c.value !== undefined).map(([k, c]) => [k, c.value])) as T;
  return checked(row, values<ProductValues>(read.product), values<VariantValues>(read.variant), (f) => CSV_FIELDS[f], rules);
}

function* jsonRows(file: Buffer, rules: FieldRules): Generator<ImportRow> {
  let start = 0;
  let line = 0;
  if (file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) start = 3;
  while (start < file.length) {
    let end = file.indexOf(10, start);
    if (end === -1) end = file.length;
    const text = file.subarray(start, end).toString('utf8').trim();
    start = end + 1;
    line += 1;
    if (!text) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ImportFileError(`Line ${line} is not valid JSON.`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ImportFileError(`Line ${line} is not a JSON object (a product).`);
    yield* jsonProductRows(line, value as Record<string, unknown>, rules);
  }
}

const JSON_FIELDS = (i: number): Record<keyof ProductValues | `variant.${keyof VariantValues}`, string> => ({
  sku: 'sku', name: 'name', slug: 'slug', description: 'description', brand: 'brand', category: 'category', categorySlug: 'category_slug',
  vendor: 'vendor', taxClass: 'tax_class', isActive: 'is_active', images: 'images', currency: 'currency',
  'variant.sku': `variants[${i}].sku`, 'variant.name': `variants[${i}].name`, 'variant.attributes': `variants[${i}].attributes`, 'variant.price': `variants[${i}].price`,
  'variant.stock': `variants[${i}].stock`, 'variant.weightGrams': `variants[${i}].weight_grams`, 'variant.isActive': `variants[${i}].is_active`,
});

/** One row per variant of a JSON line; a fault of the product's members rejects each of them. */
function* jsonProductRows(line: number, o: Record<string, unknown>, rules: FieldRules): Generator<ImportRow> {
  const variants = Array.isArray(o.variants) ? (o.variants as unknown[]) : [];
  const lineIssue = (): FieldIssue | undefined => {
    const unknown = Object.keys(o).find((k) => !JSON_PRODUCT_KEYS.includes(k));
    if (unknown !== undefined) return { field: unknown.slice(0, 80), message: 'is not a member of the import' };
    if (!Array.isArray(o.variants) || variants.length === 0) return { field: 'variants', message: 'must list at least one variant' };
    if (JSON.stringify(o).includes('\\u0000')) return { field: 'line', message: 'must not contain the NUL character (U+0000)' };
    return undefined;
  };
  const issue = lineIssue();
  if (issue) {
    for (let i = 0; i < Math.max(1, variants.length); i++) yield { row: line, ok: false, issue };
    return;
  }
  const given = (v: unknown) => v !== undefined && v !== null;
  const product: Record<string, unknown> = {
    sku: o.sku, name: o.name, slug: o.slug, description: o.description, brand: o.brand, category: typeof o.category === 'string' ? categoryRef(o.category) : o.category, categorySlug: o.category_slug,
    vendor: o.vendor, taxClass: o.tax_class, isActive: o.is_active, images: o.images, currency: o.currency,
  };
  for (const [i, raw] of variants.entries()) {
    const fields = JSON_FIELDS(i);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      yield { row: line, ok: false, issue: { field: `variants[${i}]`, message: 'must be an object' } };
      continue;
    }
    const v = raw as Record<string, unknown>;
    const unknown = Object.keys(v).find((k) => !JSON_VARIANT_KEYS.includes(k));
    if (unknown !== undefined) {
      yield { row: line, ok: false, issue: { field: `variants[${i}].${unknown.slice(0, 60)}`, message: 'is not a member of the import' } };
      continue;
    }
    const variant: Record<string, unknown> = { sku: v.sku, name: v.name, attributes: v.attributes, price: v.price, stock: v.stock, weightGrams: v.weight_grams, isActive: v.is_active };
    const strip = (x: Record<string, unknown>) => Object.fromEntries(Object.entries(x).filter(([, val]) => given(val)));
    yield checked(line, strip(product) as unknown as ProductValues, strip(variant) as unknown as VariantValues, (f) => fields[f], rules);
  }
}

/** The members each value is checked as, in the contract's request schemas. */
const PRODUCT_RULES: [keyof ProductValues, string][] = [
  ['sku', 'sku'], ['name', 'name'], ['slug', 'slug'], ['description', 'description'], ['brand', 'brand'], ['vendor', 'vendor'],
  ['taxClass', 'tax_class'], ['isActive', 'is_active'], ['images', 'images'],
];
const VARIANT_RULES: [keyof VariantValues, string][] = [
  ['sku', 'sku'], ['name', 'name'], ['attributes', 'attributes'], ['price', 'price'], ['stock', 'stock'], ['weightGrams', 'weight_grams'], ['isActive', 'is_active'],
];

/** A row's values against the contract's rules, member by member; the first problem rejects it. */
function checked(row: number, product: ProductValues, variant: VariantValues, field: (name: keyof ProductValues | `variant.${keyof VariantValues}`) => string, rules: FieldRules): ImportRow {
  if (product.sku === undefined) return { row, ok: false, issue: { field: field('sku'), message: 'is required' } };
  if (variant.sku === undefined) return { row, ok: false, issue: { field: field('variant.sku'), message: 'is required' } };
  for (const [key, member] of PRODUCT_RULES) {
    if (product[key] === undefined) continue;
    const [issue] = rules('ProductCreate', member, product[key], field(key));
    if (issue) return { row, ok: false, issue };
  }
  for (const [key, member] of VARIANT_RULES) {
    if (variant[key] === undefined) continue;
    const [issue] = rules('VariantInput', member, variant[key], field(`variant.${key}`));
    if (issue) return { row, ok: false, issue };
  }
  // A category is an id (the contract's rule) or a slug (the Slug rule).
  for (const [key, value] of [['category', product.category], ['categorySlug', product.categorySlug]] as const) {
    if (value === undefined) continue;
    const [issue] = typeof value === 'number' ? rules('ProductCreate', 'category', value, field(key)) : rules('ProductCreate', 'slug', value, field(key));
    if (issue) return { row, ok: false, issue };
  }
  if (product.currency !== undefined && typeof product.currency !== 'string') return { row, ok: false, issue: { field: field('currency'), message: 'must be a string' } };
  return { row, ok: true, product, variant, field };
}
