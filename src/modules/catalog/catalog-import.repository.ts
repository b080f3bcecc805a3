import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { CatalogImport, CatalogImportIssue } from './catalog-import.entity';

/** A product an import names by SKU, as it is now. */
export interface KnownProduct {
  id: number;
  sku: string;
  vendor_id: number;
  slug: string;
}

/** A variant an import names by SKU, with its product. */
export interface KnownVariant {
  id: number;
  sku: string;
  product_id: number;
  product_sku: string;
  vendor_id: number;
  stock: number;
}

export interface NewProductRow {
  vendor_id: number;
  category_id: number;
  name: string;
  slug: string;
  description: string;
  brand: string;
  sku: string;
  images: string[];
  tax_class: string;
  is_active: boolean;
}

/** An existing product's given columns (null: leave it as it is). */
export interface ProductChangeRow {
  id: number;
  category_id: number | null;
  name: string | null;
  slug: string | null;
  description: string | null;
  brand: string | null;
  images: string[] | null;
  tax_class: string | null;
  is_active: boolean | null;
}

export interface NewVariantRow {
  product_id: number;
  sku: string;
  name: string;
  attributes: Record<string, string>;
  price: string;
  stock: number;
  weight_grams: number;
  is_active: boolean;
}

/** An existing variant's given columns (null: leave it as it is). */
export interface VariantChangeRow {
  id: number;
  name: string | null;
  attributes: Record<string, string> | null;
  price: string | null;
  stock: number | null;
  weight_grams: number | null;
  is_active: boolean | null;
}

/** A product's variant as the export writes it. */
export interface ExportRow {
  id: number;
  product_sku: string;
  name: string;
  slug: string;
  description: string;
  brand: string;
  category_id: number;
  category_slug: string;
  vendor_id: number;
  tax_class: string;
  is_active: boolean;
  images: string[];
  sku: string;
  variant_name: string;
  attributes: Record<string, string>;
  price: string;
  stock: number;
  weight_grams: number;
  variant_is_active: boolean;
}

const textArray = (values: readonly (string | number)[]) => `{${values.map((v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/**
 * The import's SQL: its own rows, and the set-based reads and writes of one batch (one statement
 * each for the whole batch: JSON records expanded by `jsonb_to_recordset`), all in the caller's
 * transaction. The database's triggers keep each product's price range and stock, and write the
 * inventory ledger for every stock change, exactly as for the API's writes.
 */
export class CatalogImportRepository {
  find(em: EntityManager, id: number): Promise<CatalogImport | null> {
    return em.findOne(CatalogImport, id);
  }

  /** The import with its file (a lazy column), for the job. */
  withFile(em: EntityManager, id: number): Promise<CatalogImport | null> {
    return em.findOne(CatalogImport, id, { populate: ['file'] });
  }

  /** Locks the import's row for a batch: one batch at a time, whichever worker runs it. */
  lock(em: EntityManager, id: number): Promise<CatalogImport | null> {
    return em.findOne(CatalogImport, id, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  firstIssues(em: EntityManager, importId: number, limit: number): Promise<CatalogImportIssue[]> {
    return em.find(CatalogImportIssue, { catalogImport: importId }, { orderBy: { row: 'asc', id: 'asc' }, limit });
  }

  /** An import's rejected rows in file order, by keyset on (row, id). */
  listIssues(em: EntityManager, importId: number, scope: string, pick: PagePicker): Promise<Listing<CatalogImportIssue>> {
    return findListing(em, CatalogImportIssue, { catalogImport: importId }, { property: 'row', column: 'row', descending: false, key: (i) => i.row }, scope, pick);
  }

  async addIssues(em: EntityManager, importId: number, issues: readonly { row: number; field: string; message: string }[]): Promise<void> {
    if (!issues.length) return;
    await em.execute(
      `insert into catalog_import_issues (import_id, "row", field, message)
       select ?, r."row", left(r.field, 100), left(r.message, 1024) from jsonb_to_recordset(?::jsonb) as r("row" int, field text, message text)`,
      [importId, JSON.stringify(issues)],
    );
  }

  /** Products by SKU, locked in id order (products before variants: the lock order of every stock change). */
  productsBySku(em: EntityManager, skus: readonly string[]): Promise<KnownProduct[]> {
    if (!skus.length) return Promise.resolve([]);
    return em.execute<KnownProduct[]>('select id, sku, vendor_id, slug from products where sku = any(?::text[]) order by id for update', [textArray(skus)]);
  }

  variantsBySku(em: EntityManager, skus: readonly string[]): Promise<KnownVariant[]> {
    if (!skus.length) return Promise.resolve([]);
    return em.execute<KnownVariant[]>(
      `select v.id, v.sku, v.product_id, p.sku as product_sku, p.vendor_id, v.stock
         from product_variants v join products p on p.id = v.product_id where v.sku = any(?::text[])`,
      [textArray(skus)],
    );
  }

  /** Categories named by id or slug. */
  categories(em: EntityManager, ids: readonly number[], slugs: readonly string[]): Promise<{ id: number; slug: string }[]> {
    if (!ids.length && !slugs.length) return Promise.resolve([]);
    return em.execute('select id, slug from categories where id = any(?::int[]) or slug = any(?::text[])', [textArray(ids), textArray(slugs)]);
  }

  /** Which of these slugs products use, and which product. */
  slugsTaken(em: EntityManager, slugs: readonly string[]): Promise<{ id: number; slug: string }[]> {
    if (!slugs.length) return Promise.resolve([]);
    return em.execute('select id, slug from products where slug = any(?::text[])', [textArray(slugs)]);
  }

  async insertProducts(em: EntityManager, rows: readonly NewProductRow[]): Promise<{ id: number; sku: string }[]> {
    if (!rows.length) return [];
    return em.execute(
      `insert into products (vendor_id, category_id, name, slug, description, brand, sku, images, tax_class, is_active)
       select r.vendor_id, r.category_id, r.name, r.slug, r.description, r.brand, r.sku, array(select jsonb_array_elements_text(r.images)), r.tax_class, r.is_active
         from jsonb_to_recordset(?::jsonb) as r(vendor_id int, category_id int, name text, slug text, description text, brand text, sku text, images jsonb, tax_class text, is_active boolean)
       returning id, sku`,
      [JSON.stringify(rows)],
    );
  }

  /** Applies the given columns; the ids of the products that changed. */
  async updateProducts(em: EntityManager, rows: readonly ProductChangeRow[]): Promise<number[]> {
    if (!rows.length) return [];
    const changed = await em.execute<{ id: number }[]>(
      `with r as (
         select r.id, r.category_id, r.name, r.slug, r.description, r.brand, r.tax_class, r.is_active,
                case when r.images is null then null else array(select jsonb_array_elements_text(r.images)) end as images
           from jsonb_to_recordset(?::jsonb) as r(id int, category_id int, name text, slug text, description text, brand text, images jsonb, tax_class text, is_active boolean)
       )
       update products p set
         category_id = coalesce(r.category_id, p.category_id), name = coalesce(r.name, p.name), slug = coalesce(r.slug, p.slug),
         description = coalesce(r.description, p.description), brand = coalesce(r.brand, p.brand), images = coalesce(r.images, p.images),
         tax_class = coalesce(r.tax_class, p.tax_class), is_active = coalesce(r.is_active, p.is_active), updated_at = now()
         from r
        where p.id = r.id
          and (p.category_id, p.name, p.slug, p.description, p.brand, p.images, p.tax_class, p.is_active) is distinct from
              (coalesce(r.category_id, p.category_id), coalesce(r.name, p.name), coalesce(r.slug, p.slug), coalesce(r.description, p.description),
               coalesce(r.brand, p.brand), coalesce(r.images, p.images), coalesce(r.tax_class, p.tax_class), coalesce(r.is_active, p.is_active))
       returning p.id`,
      [JSON.stringify(rows)],
    );
    return changed.map((r) => r.id);
  }

  async insertVariants(em: EntityManager, rows: readonly NewVariantRow[]): Promise<{ id: number; product_id: number; sku: string; stock: number }[]> {
    if (!rows.length) return [];
    return em.execute(
      `insert into product_variants (product_id, sku, name, attributes, price, stock, weight_grams, is_active)
       select r.product_id, r.sku, r.name, r.attributes, r.price, r.stock, r.weight_grams, r.is_active
         from jsonb_to_recordset(?::jsonb) as r(product_id int, sku text, name text, attributes jsonb, price numeric(12,2), stock int, weight_grams int, is_active boolean)
        order by r.sku
       returning id, product_id, sku, stock`,
      [JSON.stringify(rows)],
    );
  }

  /** Applies the given columns (stock moves write the ledger through its trigger); the variants that changed. */
  async updateVariants(em: EntityManager, rows: readonly VariantChangeRow[]): Promise<{ id: number; product_id: number; sku: string; stock: number }[]> {
    if (!rows.length) return [];
    return em.execute(
      `with r as (
         select * from jsonb_to_recordset(?::jsonb) as r(id int, name text, attributes jsonb, price numeric(12,2), stock int, weight_grams int, is_active boolean)
       )
       update product_variants v set
         name = coalesce(r.name, v.name), attributes = coalesce(r.attributes, v.attributes), price = coalesce(r.price, v.price),
         stock = coalesce(r.stock, v.stock), weight_grams = coalesce(r.weight_grams, v.weight_grams), is_active = coalesce(r.is_active, v.is_active),
         updated_at = now()
         from r
        where v.id = r.id
          and (v.name, v.attributes, v.price, v.stock, v.weight_grams, v.is_active) is distinct from
              (coalesce(r.name, v.name), coalesce(r.attributes, v.attributes), coalesce(r.price, v.price), coalesce(r.stock, v.stock),
               coalesce(r.weight_grams, v.weight_grams), coalesce(r.is_active, v.is_active))
       returning v.id, v.product_id, v.sku, v.stock`,
      [JSON.stringify(rows)],
    );
  }

  /** The export's rows of these products: one per variant (products in the order given, variants by id), with the category's slug. */
  exportRows(em: EntityManager, productIds: readonly number[]): Promise<ExportRow[]> {
    if (!productIds.length) return Promise.resolve([]);
    return em.execute<ExportRow[]>(
      `select p.id, p.sku as product_sku, p.name, p.slug, p.description, p.brand, p.category_id, c.slug as category_slug, p.vendor_id, p.tax_class,
              p.is_active, p.images, v.sku, v.name as variant_name, v.attributes, v.price::text as price, v.stock, v.weight_grams, v.is_active as variant_is_active
         from unnest(?::int[]) with ordinality as page(id, n)
         join products p on p.id = page.id
         join categories c on c.id = p.category_id
         join product_variants v on v.product_id = p.id
        order by page.n, v.id`,
      [textArray(productIds)],
    );
  }
}
