import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { hashPassword } from '../modules/accounts/passwords';
import { fromMinor } from '../shared/money';
import { ADJECTIVES, brandNames, DEPARTMENTS, type Department, MODEL_SUFFIXES, SHOP_WORDS } from './catalog-words';
import { Random, Weighted } from './random';

/**
 * Generates a realistic, reproducible catalog and bulk-loads it with COPY.
 *
 * - Same `products` and `seed` → the same rows, ids included (the catalog tables are truncated with
 *   their identities restarted, so ids start at 1). Timestamps are spread over the two years before
 *   `until`, a fixed date by default so that reruns match.
 * - A category tree (10 departments × 6 categories × 6 sub-categories; products on the leaves, with
 *   skewed sizes), 200 brands drawn with a Zipf-like skew (rotated per department), vendors drawn
 *   with a skew too, log-normal prices by department, 1-3 variants per product (some out of stock,
 *   some inactive), ~5% inactive products, ratings, image URLs.
 * - Product aggregates (price = lowest active variant price, max_price, stock = sum of active
 *   variant stock, in_stock) are computed here, exactly as `refresh_product_aggregates()` would, so
 *   the per-row variant trigger is disabled during the load.
 * - The load runs in one transaction: truncate, drop the secondary indexes and constraints of
 *   products and variants, `COPY ... (FREEZE)` batch by batch, rebuild the indexes and constraints
 *   (one sorted build each instead of millions of incremental inserts), re-enable the trigger, set
 *   the sequences. Any failure rolls all of it back: the schema (trigger, indexes) is as before.
 *   Then ANALYZE.
 *
 * The vendor accounts (`vendor001`...) are created when missing, with the password
 * {@link SEED_VENDOR_PASSWORD}, and reused otherwise.
 */

export const SEED_VENDOR_PASSWORD = 'vendor-seed-password';
/** Default end of the created_at range: fixed, so that the same seed gives the same rows on any day. */
export const SEED_UNTIL = new Date('2026-11-01T00:00:00.000Z');

export type SeedProgress =
  | { phase: 'load'; done: number; total: number }
  | { phase: 'index'; done: number; total: number; statement: string }
  | { phase: 'analyze' };

export interface CatalogSeedOptions {
  products: number;
  seed?: number;
  /** Empty a non-empty catalog first (refused while other tables reference catalog rows). */
  reset?: boolean;
  /** Products per COPY batch (default 10,000). */
  batchSize?: number;
  /** Number of vendor accounts (default 50). */
  vendors?: number;
  /** Number of brands (default 200). */
  brands?: number;
  /** created_at values fall in the two years before this instant (default {@link SEED_UNTIL}). */
  until?: Date;
  /** Called after each batch and each index; throwing aborts (and rolls back) the seed. */
  onProgress?: (progress: SeedProgress) => void;
}

export interface CatalogSeedReport {
  categories: number;
  products: number;
  variants: number;
  vendors: number;
  seconds: { load: number; indexes: number; analyze: number; total: number };
}

export class CatalogNotEmptyError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'CatalogNotEmptyError';
  }
}

const CATALOG_TABLES = ['product_variants', 'products', 'categories'] as const;
/** Tables whose secondary indexes and constraints are rebuilt after the load. */
const REBUILT_TABLES = ['products', 'product_variants'] as const;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Generation (pure): the same options always give the same rows.
// ---------------------------------------------------------------------------------------------

export interface CategoryRow {
  id: number;
  parentId: number | null;
  name: string;
  slug: string;
  description: string;
  depth: 0 | 1 | 2;
  department: number;
}

interface Leaf {
  category: CategoryRow;
  department: Department;
  nouns: readonly string[];
  qualifier: string;
  priceFactor: number;
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The category tree, breadth first: departments (ids 1-10), their categories, then sub-categories. */
export function categoryTree(): CategoryRow[] {
  const rows: CategoryRow[] = [];
  let id = 0;
  const roots = DEPARTMENTS.map((d, i): CategoryRow => ({
    id: ++id, parentId: null, name: d.name, slug: slugify(d.name), depth: 0, department: i,
    description: `${d.name}: ${d.categories.map((c) => c.name.toLowerCase()).join(', ')}.`,
  }));
  rows.push(...roots);
  const mids = roots.flatMap((root) =>
    DEPARTMENTS[root.department].categories.map((c): CategoryRow => ({
      id: ++id, parentId: root.id, name: c.name, slug: `${root.slug}-${slugify(c.name)}`, depth: 1, department: root.department,
      description: `${c.nouns.join(', ')} and more.`,
    })),
  );
  rows.push(...mids);
  for (const mid of mids) {
    for (const q of DEPARTMENTS[mid.department].qualifiers) {
      rows.push({
        id: ++id, parentId: mid.id, name: `${q} ${mid.name}`, slug: `${mid.slug}-${slugify(q)}`, depth: 2, department: mid.department,
        description: `${q} ${mid.name.toLowerCase()}.`,
      });
    }
  }
  return rows;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function esc(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : value;
}

/** A price in cents with a shop-like ending (.99 mostly, some .49 and .00). */
function shopPrice(cents: number, r: Random): number {
  const euros = Math.max(1, Math.round(cents / 100));
  const ending = r.next();
  if (ending < 0.7) return euros * 100 - 1;
  if (ending < 0.85) return euros * 100 - 51 > 0 ? euros * 100 - 51 : euros * 100 - 1;
  return euros * 100;
}

export interface GeneratedChunk {
  /** COPY text lines for up to 1,000 products, and for their variants. */
  products: string;
  variants: string;
  productCount: number;
  variantCount: number;
}

export class CatalogGenerator {
  readonly categories: CategoryRow[];
  readonly brands: string[];
  private readonly leaves: Leaf[];
  private readonly leafPicker: Weighted;
  private readonly brandPicker: Weighted;
  private readonly vendorPicker: Weighted;
  private readonly random: Random;
  private readonly start: number;
  private readonly span: number;
  private nextVariantId = 1;

  constructor(
    private readonly options: { products: number; seed: number; vendorIds: number[]; brands: number; until: Date },
  ) {
    this.categories = categoryTree();
    this.brands = brandNames(options.brands);
    const shape = new Random(options.seed, 'categories');
    this.leaves = this.categories
      .filter((c) => c.depth === 2)
      .map((category) => {
        const department = DEPARTMENTS[category.department];
        const mid = this.categories.find((c) => c.id === category.parentId)!;
        return {
          category,
          department,
          nouns: department.categories.find((c) => c.name === mid.name)!.nouns,
          qualifier: category.name.slice(0, category.name.length - mid.name.length - 1),
          priceFactor: Math.exp(0.25 * shape.normal()),
        };
      });
    // Some sub-categories are much larger than others.
    this.leafPicker = new Weighted(this.leaves.map(() => Math.exp(0.8 * shape.normal())));
    this.brandPicker = Weighted.zipf(this.brands.length, 1.07);
    this.vendorPicker = Weighted.zipf(options.vendorIds.length, 0.8);
    this.random = new Random(options.seed, 'products');
    this.span = 730 * DAY_MS;
    this.start = options.until.getTime() - this.span;
  }

  get leafCount(): number {
    return this.leaves.length;
  }

  /** Inserts the category tree, one statement per level (the path trigger reads each parent's path). */
  async insertCategories(client: ClientBase): Promise<void> {
    const created = new Date(this.start - 30 * DAY_MS).toISOString();
    for (const depth of [0, 1, 2]) {
      const level = this.categories.filter((c) => c.depth === depth);
      await client.query(
        `insert into categories (${CATEGORY_COLUMNS})
         select id, $2::timestamptz, $2::timestamptz, name, slug, description, parent_id, true
           from unnest($1::int[], $3::text[], $4::text[], $5::text[], $6::int[]) as c(id, name, slug, description, parent_id)`,
        [level.map((c) => c.id), created, level.map((c) => c.name), level.map((c) => c.slug), level.map((c) => c.description), level.map((c) => c.parentId)],
      );
    }
  }

  /** Products `first`..`last` (ids), in order, with their variants, in chunks of `size` products. */
  *chunks(first: number, last: number, size = 1000): Generator<GeneratedChunk> {
    for (let start = first; start <= last; start += size) {
      const end = Math.min(last, start + size - 1);
      let products = '';
      let variants = '';
      let variantCount = 0;
      for (let id = start; id <= end; id++) {
        const generated = this.product(id);
        products += generated.product;
        variants += generated.variants;
        variantCount += generated.variantCount;
      }
      yield { products, variants, productCount: end - start + 1, variantCount };
    }
  }

  private product(id: number): { product: string; variants: string; variantCount: number } {
    const r = this.random;
    const leaf = this.leaves[this.leafPicker.draw(r)];
    const dept = leaf.department;
    // Each department has its own leading brands: rotate the Zipf ranks by department.
    const brand = this.brands[(this.brandPicker.draw(r) + leaf.category.department * 20) % this.brands.length];
    const vendorId = this.options.vendorIds[this.vendorPicker.draw(r)];
    const noun = r.pick(leaf.nouns);
    const adjective = r.chance(0.45) ? leaf.qualifier : r.pick(ADJECTIVES);
    let name = `${brand} ${adjective} ${noun}`;
    if (r.chance(0.55)) name += ` ${r.pick(MODEL_SUFFIXES)}${r.chance(0.5) ? ` ${r.between(2, 9)}` : ''}`;
    const slug = `${slugify(name)}-${id}`;
    const sku = `${slugify(brand).slice(0, 3).toUpperCase()}-${pad(id, 8)}`;

    const [feature1, feature2] = r.sample(dept.features, 2);
    const uses = r.sample(dept.uses, 2);
    let description =
      `The ${name} is made from ${r.pick(dept.materials)}. It comes with ${feature1} and ${feature2}. ` +
      `Designed for ${uses[0]}${r.chance(0.5) ? ` and ${uses[1]}` : ''}; part of our ${leaf.category.name.toLowerCase()} range.`;
    if (r.chance(0.4)) description += ` ${brand} has made ${leaf.category.name.toLowerCase()} since ${r.between(1950, 2020)}.`;

    // Created over two years, roughly in id order (as auto-increment ids are), to the millisecond.
    const base = this.start + ((id - 0.5) / this.options.products) * this.span;
    const createdMs = Math.min(this.start + this.span - 1, Math.max(this.start, Math.floor(base + (r.next() - 0.5) * 6 * 3_600_000)));
    const updatedMs = Math.min(this.start + this.span - 1, createdMs + r.int(60 * DAY_MS));
    const created = new Date(createdMs).toISOString();
    const updated = new Date(updatedMs).toISOString();
    const isActive = !r.chance(0.05);

    const images: string[] = [];
    const imageCount = r.between(1, 4);
    for (let k = 1; k <= imageCount; k++) images.push(`"https://cdn.example.com/products/${id}/${k}.jpg"`);

    // Variants: distinct values along the department's first axis; a second axis value shared.
    const baseCents = shopPrice(dept.medianCents * leaf.priceFactor * Math.exp(dept.sigma * r.normal()), r);
    const variantTotal = r.chance(0.5) ? 1 : r.chance(0.6) ? 2 : 3;
    const [axis, second] = dept.axes;
    const picks = r.sample(axis.values.map((_, i) => i), Math.min(variantTotal, axis.values.length)).sort((a, b) => a - b);
    const secondValue = second ? r.pick(second.values) : undefined;
    const priced = r.chance(0.5);
    let variants = '';
    let minActive = Infinity, maxActive = -Infinity, minAll = Infinity, maxAll = -Infinity, stock = 0, anyActive = false;
    picks.forEach((valueIndex, k) => {
      const value = axis.values[valueIndex];
      const cents = priced && k > 0 ? shopPrice(baseCents * (1 + 0.12 * valueIndex), r) : baseCents;
      const variantStock = r.chance(0.12) ? 0 : Math.min(9999, Math.floor(Math.exp(2.5 + 1.2 * r.normal())) + 1);
      const variantActive = !r.chance(0.04);
      const attributes: Record<string, string> = { [axis.name]: value };
      if (second && secondValue) attributes[second.name] = secondValue;
      const variantName = secondValue ? `${value} / ${secondValue}` : value;
      minAll = Math.min(minAll, cents);
      maxAll = Math.max(maxAll, cents);
      if (variantActive) {
        anyActive = true;
        minActive = Math.min(minActive, cents);
        maxActive = Math.max(maxActive, cents);
        stock += variantStock;
      }
      variants +=
        [this.nextVariantId++, created, updated, id, `${sku}-${k + 1}`, esc(variantName), esc(JSON.stringify(attributes)), fromMinor(cents), variantStock, variantActive ? 't' : 'f'].join('\t') + '\n';
    });
    // As refresh_product_aggregates(): active variants, else the range of all and no stock.
    const price = anyActive ? minActive : minAll;
    const maxPrice = anyActive ? maxActive : maxAll;

    const rated = r.chance(0.65);
    const ratingCount = rated ? Math.min(20_000, 1 + Math.floor(Math.exp(1.5 + 1.4 * r.normal()))) : 0;
    const ratingAvg = rated ? Math.min(500, Math.max(100, Math.round((4.1 + 0.55 * r.normal()) * 100))) : 0;

    const product =
      [
        id, created, updated, vendorId, leaf.category.id, esc(name), esc(slug), esc(description), esc(brand), sku,
        esc(`{${images.join(',')}}`), isActive ? 't' : 'f', fromMinor(price), fromMinor(maxPrice), stock, stock > 0 ? 't' : 'f',
        fromMinor(ratingAvg), ratingCount,
      ].join('\t') + '\n';
    return { product, variants, variantCount: picks.length };
  }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

const PRODUCT_COLUMNS =
  'id, created_at, updated_at, vendor_id, category_id, name, slug, description, brand, sku, images, is_active, price, max_price, stock, in_stock, rating_avg, rating_count';
const VARIANT_COLUMNS = 'id, created_at, updated_at, product_id, sku, name, attributes, price, stock, is_active';
const CATEGORY_COLUMNS = 'id, created_at, updated_at, name, slug, description, parent_id, is_active';

async function copyIn(client: ClientBase, sql: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The vendor accounts' ids, creating the missing ones (argon2id hash computed once). */
export async function ensureVendors(client: ClientBase, count: number): Promise<number[]> {
  const usernames = Array.from({ length: count }, (_, i) => `vendor${pad(i + 1, 3)}`);
  const existing = await client.query<{ id: number; username: string; role: string }>(
    'select id, lower(username) as username, role from users where lower(username) = any($1::text[])',
    [usernames],
  );
  const wrong = existing.rows.find((u) => u.role !== 'vendor');
  if (wrong) throw new Error(`user ${wrong.username} exists with role ${wrong.role}; the seed needs it to be a vendor`);
  const found = new Map(existing.rows.map((u) => [u.username, u.id]));
  const missing = usernames.filter((u) => !found.has(u));
  if (missing.length) {
    const hash = await hashPassword(SEED_VENDOR_PASSWORD);
    const shops = new Random(0, 'vendors');
    const brands = brandNames(400).slice(200);
    for (const username of missing) {
      const shop = `${shops.pick(brands)} ${shops.pick(SHOP_WORDS)}`;
      const { rows } = await client.query<{ id: number }>(
        `insert into users (username, email, password_hash, first_name, role) values ($1, $2, $3, $4, 'vendor') returning id`,
        [username, `${username}@seed.example.com`, hash, shop],
      );
      found.set(username, rows[0].id);
    }
  }
  return usernames.map((u) => found.get(u)!);
}

interface Rebuild {
  drop: string[];
  create: string[];
}

/**
 * The secondary indexes and the unique and foreign-key constraints of the bulk-loaded tables, as
 * the statements that drop them and the ones that recreate them exactly (primary keys and checks stay).
 */
async function secondaryObjects(client: ClientBase): Promise<Rebuild> {
  const drop: string[] = [];
  const uniques: string[] = [];
  const indexes: string[] = [];
  const foreign: string[] = [];
  for (const table of REBUILT_TABLES) {
    const constraints = await client.query<{ name: string; type: string; def: string }>(
      `select conname as name, contype as type, pg_get_constraintdef(oid) as def from pg_constraint
        where conrelid = $1::regclass and contype in ('u', 'f') order by conname`,
      [table],
    );
    for (const c of constraints.rows) {
      drop.push(`alter table ${ident(table)} drop constraint ${ident(c.name)}`);
      (c.type === 'u' ? uniques : foreign).push(`alter table ${ident(table)} add constraint ${ident(c.name)} ${c.def}`);
    }
    const plain = await client.query<{ name: string; def: string }>(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def from pg_index i
        where i.indrelid = $1::regclass and not i.indisprimary
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid)
        order by 1`,
      [table],
    );
    for (const i of plain.rows) {
      drop.push(`drop index ${i.name}`);
      indexes.push(i.def);
    }
  }
  // Foreign keys last: their validation reads the referenced primary keys.
  return { drop, create: [...uniques, ...indexes, ...foreign] };
}

/**
 * Refuses to reset when other tables (carts, orders...) hold rows that reference the catalog. The
 * inventory ledger is the catalog's own history: it is reset with it.
 */
async function assertResettable(client: ClientBase): Promise<void> {
  const { rows } = await client.query<{ table: string }>(
    `select distinct conrelid::regclass::text as table from pg_constraint
      where contype = 'f' and confrelid = any(array['categories', 'products', 'product_variants']::regclass[])
        and conrelid <> all(array['categories', 'products', 'product_variants', 'inventory_movements']::regclass[])`,
  );
  for (const { table } of rows) {
    const { rowCount } = await client.query(`select 1 from ${table} limit 1`);
    if (rowCount) throw new CatalogNotEmptyError(`${table} references catalog rows; the catalog cannot be reset without losing them`);
  }
}

/**
 * Seeds the catalog through `client` (a node-postgres client that is not in a transaction).
 * Throws {@link CatalogNotEmptyError} when the catalog already has rows and `reset` is not set.
 */
export async function seedCatalog(client: ClientBase, options: CatalogSeedOptions): Promise<CatalogSeedReport> {
  const started = performance.now();
  const total = options.products;
  if (!Number.isInteger(total) || total < 0) throw new Error('products must be a non-negative integer');
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? 10_000;
  const progress = options.onProgress ?? (() => undefined);

  const { rows: [state] } = await client.query<{ products: boolean; categories: boolean }>(
    'select exists(select 1 from products) as products, exists(select 1 from categories) as categories',
  );
  if (state.products || state.categories) {
    if (!options.reset) throw new CatalogNotEmptyError('the catalog already has rows: pass reset (--reset) to replace it');
    await assertResettable(client);
  }
  const vendorIds = await ensureVendors(client, options.vendors ?? 50);
  const generator = new CatalogGenerator({ products: total, seed, vendorIds, brands: options.brands ?? 200, until: options.until ?? SEED_UNTIL });

  let variants = 0;
  let loaded = 0;
  let indexed = 0;
  await client.query('begin');
  try {
    // Sorted index builds get room (GIN builds especially); local to this transaction.
    await client.query(`set local maintenance_work_mem = '512MB'`);
    await client.query(`truncate ${CATALOG_TABLES.join(', ')} restart identity cascade`);
    const rebuild = await secondaryObjects(client);
    // The aggregate trigger (computed by the generator instead) and the inventory-ledger triggers
    // (one set-based insert after the load instead of a row per variant).
    await client.query('alter table product_variants disable trigger product_variants_refresh_product');
    await client.query('alter table product_variants disable trigger product_variants_record_movement_insert');
    for (const statement of rebuild.drop) await client.query(statement);

    await generator.insertCategories(client);
    progress({ phase: 'load', done: 0, total });
    for (let first = 1; first <= total; first += batchSize) {
      const last = Math.min(total, first + batchSize - 1);
      // FREEZE: the tables were truncated in this transaction, so rows are written already frozen
      // (no hint-bit rewrite or anti-wraparound vacuum of a million fresh rows later).
      // Products are generated chunk by chunk while the server ingests the previous chunks (the
      // generator runs on this core, COPY and the search_vector column on the other); the batch's
      // variants follow in a second COPY.
      const variantChunks: string[] = [];
      async function* productChunks(): AsyncGenerator<string> {
        for (const chunk of generator.chunks(first, last)) {
          variantChunks.push(chunk.variants);
          variants += chunk.variantCount;
          yield chunk.products;
          await nextTurn();
        }
      }
      await copyIn(client, `copy products (${PRODUCT_COLUMNS}) from stdin with (freeze)`, productChunks());
      await copyIn(client, `copy product_variants (${VARIANT_COLUMNS}) from stdin with (freeze)`, variantChunks);
      progress({ phase: 'load', done: last, total });
    }
    loaded = performance.now();

    for (const [i, statement] of rebuild.create.entries()) {
      progress({ phase: 'index', done: i, total: rebuild.create.length, statement });
      await client.query(statement);
    }
    progress({ phase: 'index', done: rebuild.create.length, total: rebuild.create.length, statement: '' });
    await client.query('alter table product_variants enable trigger product_variants_refresh_product');
    await client.query(
      `insert into inventory_movements (variant_id, delta, reason, stock_after) select id, stock, 'initial', stock from product_variants where stock <> 0 order by id`,
    );
    await client.query('alter table product_variants enable trigger product_variants_record_movement_insert');
    for (const table of CATALOG_TABLES) {
      await client.query(
        `select setval(pg_get_serial_sequence('${table}', 'id'), coalesce(max(id), 1), max(id) is not null) from ${table}`,
      );
    }
    await client.query('commit');
    indexed = performance.now();
  } catch (err) {
    // The rollback restores everything this transaction changed: the trigger, the indexes, the rows.
    await client.query('rollback').catch(() => undefined);
    throw err;
  }

  progress({ phase: 'analyze' });
  await client.query('analyze categories, products, product_variants, users');
  const done = performance.now();
  const s = (ms: number) => Math.round(ms) / 1000;
  return {
    categories: generator.categories.length,
    products: total,
    variants,
    vendors: vendorIds.length,
    seconds: { load: s(loaded - started), indexes: s(indexed - loaded), analyze: s(done - indexed), total: s(done - started) },
  };
}
