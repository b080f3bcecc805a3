import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { hashPassword } from '../modules/accounts';
import { CatalogGenerator, type CategoryRow, vendorShops, vendorUsernames } from './catalog-generator';

/**
 * Loads the generated catalog (catalog-generator.ts) into PostgreSQL.
 *
 * - Refuses a non-empty catalog unless `reset` is set, and a reset while other tables (carts,
 *   orders...) reference catalog rows.
 * - The vendor accounts (`vendor001`...) are created when missing, with the password
 *   {@link SEED_VENDOR_PASSWORD}, and reused otherwise.
 * - The load runs in one transaction: truncate (identities restarted, so ids start at 1), drop the
 *   secondary indexes and constraints of products and variants, disable the aggregate trigger (the
 *   generator computes the aggregates), `COPY ... (FREEZE)` batch by batch, rebuild the indexes and
 *   constraints (one sorted build each instead of millions of incremental inserts), re-enable the
 *   triggers, set the sequences. Any failure rolls all of it back: the schema (trigger, indexes) is
 *   as before. Then ANALYZE. Progress is reported after each batch and each index.
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
  const usernames = vendorUsernames(count);
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
    for (const { username, shop } of vendorShops(missing)) {
      const { rows: [created] } = await client.query<{ id: number }>(
        `insert into users (username, email, password_hash, first_name, role, email_verified_at) values ($1, $2, $3, $4, 'vendor', now()) returning id`,
        [username, `${username}@seed.example.com`, hash, shop],
      );
      if (!created) throw new Error(`creating the vendor account ${username} returned no row`);
      found.set(username, created.id);
    }
  }
  // Every username was either found or has just been created.
  return usernames.map((u) => found.get(u)!);
}

/** Inserts the category tree, one statement per level (the path trigger reads each parent's path). */
async function insertCategories(client: ClientBase, categories: readonly CategoryRow[], createdAt: Date): Promise<void> {
  const created = createdAt.toISOString();
  for (const depth of [0, 1, 2]) {
    const level = categories.filter((c) => c.depth === depth);
    await client.query(
      `insert into categories (${CATEGORY_COLUMNS})
       select id, $2::timestamptz, $2::timestamptz, name, slug, description, parent_id, true
         from unnest($1::int[], $3::text[], $4::text[], $5::text[], $6::int[]) as c(id, name, slug, description, parent_id)`,
      [level.map((c) => c.id), created, level.map((c) => c.name), level.map((c) => c.slug), level.map((c) => c.description), level.map((c) => c.parentId)],
    );
  }
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
  if (!state) throw new Error('the catalog emptiness check returned no row');
  if (state.products || state.categories) {
    if (!options.reset) throw new CatalogNotEmptyError('the catalog already has rows: pass reset (--reset) to replace it');
    await assertResettable(client);
  }
  const vendorIds = await ensureVendors(client, options.vendors ?? 50);
  const generator = new CatalogGenerator({ products: total, seed, vendorIds, brands: options.brands ?? 200, until: options.until ?? SEED_UNTIL });

  let variants = 0;
  let loaded: number;
  let indexed: number;
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

    await insertCategories(client, generator.categories, generator.categoriesCreatedAt);
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
