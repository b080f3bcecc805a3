import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../../shared/errors';
import { failpoint } from '../../shared/failpoints';
import { normalizeMoney } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { slugify, suffixed } from '../../shared/slug';
import { mayManage } from './access';
import { type CatalogPublisher, noCatalogEvents } from './catalog.events';
import { CatalogErrors } from './catalog.errors';
import { CatalogImport, type CatalogImportIssue, type ImportFormat } from './catalog-import.entity';
import type { CatalogImportRepository, KnownVariant, NewProductRow, NewVariantRow, ProductChangeRow, VariantChangeRow } from './catalog-import.repository';
import { type FieldIssue, type FieldRules, headerIssues, ImportFileError, type ImportRow, type ProductValues, readRows } from './catalog-import.rows';
import type { InventoryRepository } from './inventory.repository';
import type { Sellers } from './products.service';
import { ProductsRepository } from './products.repository';

/** Enqueues the import's job in the caller's transaction (the composition root sends `catalog.import`). */
export interface ImportJobs {
  enqueue(em: EntityManager, importId: number): Promise<void>;
}

export interface CatalogImportOptions {
  /** The store's currency: a row naming another is rejected. */
  currency: string;
  /** Rows per batch (one transaction each). */
  batchRows: number;
}

/** An import as its owner sees it: the row and its first rejected rows. */
export interface ImportView {
  import: CatalogImport;
  issues: CatalogImportIssue[];
}

/** The cursor scope of an import's rejected rows: a cursor of one import's list is refused by another's. */
const issueScope = (importId: number) => `import-issues:${importId}`;

/** How many rejected rows the import's own view lists. */
const FIRST_ISSUES = 100;

type AcceptedRow = Extract<ImportRow, { ok: true }>;
type Issue = FieldIssue & { row: number };

/**
 * What the file itself says, across batches: the SKUs its rows already used and each product's
 * columns as its first row gave them (the rows of one product must agree). Rebuilt from the rows
 * before the resume point when a job resumes.
 */
class FileState {
  readonly variants = new Map<string, number>();
  readonly products = new Map<string, { row: number; values: ProductValues }>();

  /** Why the row contradicts the rows before it, or undefined (then it is remembered). */
  check(r: AcceptedRow): FieldIssue | undefined {
    const firstUse = this.variants.get(r.variant.sku);
    if (firstUse !== undefined) return { field: r.field('variant.sku'), message: `appears again in the file (first on row ${firstUse})` };
    const first = this.products.get(r.product.sku);
    if (first) {
      const keys = new Set([...Object.keys(first.values), ...Object.keys(r.product)] as (keyof ProductValues)[]);
      for (const key of keys) {
        if (JSON.stringify(first.values[key]) !== JSON.stringify(r.product[key])) {
          return { field: r.field(key), message: `differs from row ${first.row}, which gave this product’s columns` };
        }
      }
    } else {
      this.products.set(r.product.sku, { row: r.row, values: r.product });
    }
    this.variants.set(r.variant.sku, r.row);
    return undefined;
  }
}

/**
 * Catalog import: a file (CSV or JSON Lines) is stored with its import and applied by a job, batch
 * by batch. Each batch is one transaction that also advances the import's progress, so a crash
 * resumes after the last committed batch and no batch is ever half applied. Rows are checked with
 * the contract's rules for each field (the API's `ProductCreate` and `VariantInput`), and with the
 * products service's rules: categories exist, vendors sell their own products (admins for any
 * active seller), SKUs and slugs are unique. Stock changes go through the same triggers as the
 * API's (the inventory ledger records them as adjustments).
 */
export class CatalogImportService {
  constructor(
    private readonly imports: CatalogImportRepository,
    private readonly stock: InventoryRepository,
    private readonly rules: FieldRules,
    private readonly sellers: Sellers,
    private readonly jobs: ImportJobs,
    private readonly options: CatalogImportOptions,
    private readonly events: CatalogPublisher = noCatalogEvents,
  ) {}

  /** The catalog's own product queries (the events' snapshots: one query and one shape for both). */
  private readonly products = new ProductsRepository();

  /**
   * Stores an uploaded file and enqueues its job, in one transaction. A header the import cannot
   * read (unknown, repeated or missing columns; a first JSON line that is no object) is refused at
   * once: 400 VALIDATION_ERROR naming each column.
   */
  async upload(em: EntityManager, actor: Principal, format: ImportFormat, file: Buffer): Promise<ImportView> {
    const issues = headerIssues(format, file);
    if (issues.length) throw new DomainError('invalid', 'VALIDATION_ERROR', 'The file’s header is not one the import reads.', { errors: issues });
    const created = await em.transactional(async (tx) => {
      const entry = new CatalogImport(actor.id, actor.role === 'admin', format, file);
      tx.persist(entry);
      await tx.flush();
      await this.jobs.enqueue(tx, entry.id);
      return entry;
    });
    // The file stays in the database; this process need not keep it.
    created.file = null;
    return { import: created, issues: [] };
  }

  /** An import with its first rejected rows, for its uploader and admins (others: 404). */
  async get(em: EntityManager, viewer: Principal, id: number): Promise<ImportView> {
    const entry = await this.visible(em, viewer, id);
    return { import: entry, issues: await this.imports.firstIssues(em, id, FIRST_ISSUES) };
  }

  /** Every rejected row of an import, in file order, for its uploader and admins (others: 404). */
  async listIssues(em: EntityManager, viewer: Principal, id: number, pick: PagePicker): Promise<Listing<CatalogImportIssue>> {
    // The page asked for is checked first (a bad cursor is a 400 whatever the import), as every list does.
    pick([issueScope(id)]);
    await this.visible(em, viewer, id);
    return this.imports.listIssues(em, id, issueScope(id), pick);
  }

  /**
   * Runs an import (the `catalog.import` job): counts the rows (a malformed file fails the import
   * before anything changes), then applies them batch by batch from where the last committed batch
   * left off. Safe to run again: a finished import is left alone.
   */
  async run(em: EntityManager, id: number): Promise<ImportView['import'] | null> {
    const entry = await this.imports.withFile(em, id);
    if (!entry || entry.status === 'succeeded' || entry.status === 'failed' || !entry.file) return entry;
    const file = entry.file;
    const actor = { id: entry.user.id, admin: entry.asAdmin };
    let total = 0;
    try {
      // Counting needs the rows' syntax only, not their rules.
      for await (const row of readRows(entry.format, file, () => [])) {
        // Counting a large file is CPU work: let timers (the job's heartbeat) run now and then.
        if (row && ++total % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      if (!(err instanceof ImportFileError)) throw err;
      return this.finish(em, id, 'failed', err.message);
    }
    const done = await em.transactional(async (tx) => {
      const locked = (await this.imports.lock(tx, id))!;
      if (locked.status === 'queued') {
        locked.status = 'running';
        locked.startedAt = new Date();
      }
      locked.rowsTotal = total;
      return locked.rowsDone;
    });

    const state = new FileState();
    let batch: ImportRow[] = [];
    let index = 0;
    for await (const row of readRows(entry.format, file, this.rules)) {
      index += 1;
      if (index <= done) {
        // Already applied: only what the file said matters for the rows after it.
        if (row.ok) state.check(row);
        continue;
      }
      batch.push(row);
      if (batch.length === this.options.batchRows) {
        await this.applyBatch(em, id, actor, batch, index - batch.length, state);
        batch = [];
      }
    }
    if (batch.length) await this.applyBatch(em, id, actor, batch, index - batch.length, state);
    return this.finish(em, id, 'succeeded', null);
  }

  /**
   * Fails an import whose job gave up (its last retry failed): the batches committed so far stay,
   * the reason says to look at the server's log (the error itself may carry values).
   */
  async giveUp(em: EntityManager, id: number): Promise<void> {
    const entry = await this.imports.find(em, id);
    if (!entry || entry.status === 'succeeded' || entry.status === 'failed') return;
    await this.finish(em, id, 'failed', `The import stopped after repeated failures at row ${entry.rowsDone + 1}; the rows before it are applied. See the server's log.`);
  }

  /** Ends an import (its file is dropped: the rows are applied or the file is unusable). */
  private async finish(em: EntityManager, id: number, status: 'succeeded' | 'failed', reason: string | null): Promise<CatalogImport | null> {
    return em.transactional(async (tx) => {
      const entry = await this.imports.lock(tx, id);
      if (!entry) return null;
      entry.status = status;
      entry.failureReason = reason?.slice(0, 1024) ?? null;
      entry.startedAt ??= new Date();
      entry.finishedAt = new Date();
      entry.file = null;
      return entry;
    });
  }

  /**
   * One batch, all or nothing, with the import's progress: rows are checked against the file so
   * far and the database (under the products' row locks, taken in id order as every stock change
   * takes them), then applied with one statement per kind of write.
   */
  private async applyBatch(em: EntityManager, id: number, actor: { id: number; admin: boolean }, rows: ImportRow[], start: number, state: FileState): Promise<void> {
    await em.transactional(async (tx) => {
      const entry = await this.imports.lock(tx, id);
      // Another attempt of this job got further (an attempt that outlived its expiry): let it finish.
      if (!entry || entry.rowsDone !== start) throw new Error(`import ${id}: another attempt is at row ${entry?.rowsDone}, not ${start}`);
      const issues: Issue[] = [];
      const reject = (row: number, issue: FieldIssue) => issues.push({ row, ...issue });
      const candidates: AcceptedRow[] = [];
      for (const row of rows) {
        if (!row.ok) reject(row.row, row.issue);
        else {
          const contradiction = state.check(row);
          if (contradiction) reject(row.row, contradiction);
          else candidates.push(row);
        }
      }

      const plan = await this.plan(tx, actor, candidates, reject);
      await this.stock.explain(tx, 'adjustment', null);
      const inserted = await this.imports.insertProducts(tx, plan.newProducts);
      const productIds = new Map<string, number>([...plan.known.values()].map((p) => [p.sku, p.id]));
      for (const p of inserted) productIds.set(p.sku, p.id);
      const changedProducts = await this.imports.updateProducts(tx, plan.productChanges);
      const newVariants: NewVariantRow[] = plan.newVariants.map(({ productSku, row }) => ({ ...row, product_id: productIds.get(productSku)! }));
      const addedVariants = await this.imports.insertVariants(tx, newVariants);
      const changedVariants = await this.imports.updateVariants(tx, plan.variantChanges);
      await this.stock.forget(tx);
      await this.imports.addIssues(tx, id, issues);
      entry.rowsDone += rows.length;
      entry.created += plan.newVariants.length;
      entry.updated += plan.variantChanges.length;
      entry.rejected += issues.length;
      await tx.flush();
      await this.announce(tx, {
        created: inserted.map((p) => p.id),
        updated: [...changedProducts, ...addedVariants.map((v) => v.product_id), ...changedVariants.map((v) => v.product_id)],
        stock: changedVariants.map((v) => ({ ...v, previous: plan.variantsBySku.get(v.sku)?.stock ?? v.stock })),
      });
      failpoint('catalog-import.before-commit');
    });
    failpoint('catalog-import.after-batch');
  }

  /** The batch's rows against the database: which to create, which to update, and the rest rejected. */
  private async plan(tx: EntityManager, actor: { id: number; admin: boolean }, rows: AcceptedRow[], reject: (row: number, issue: FieldIssue) => void) {
    const known = new Map((await this.imports.productsBySku(tx, [...new Set(rows.map((r) => r.product.sku))])).map((p) => [p.sku, p] as const));
    const variantsBySku = new Map<string, KnownVariant>((await this.imports.variantsBySku(tx, rows.map((r) => r.variant.sku))).map((v) => [v.sku, v]));
    const categoryIds = rows.flatMap((r) => (typeof r.product.category === 'number' ? [r.product.category] : []));
    const categorySlugs = rows.flatMap((r) => [...(typeof r.product.category === 'string' ? [r.product.category] : []), ...(r.product.categorySlug ? [r.product.categorySlug] : [])]);
    const categories = await this.imports.categories(tx, categoryIds, categorySlugs);
    const categoryById = new Set(categories.map((c) => c.id));
    const categoryBySlug = new Map(categories.map((c) => [c.slug, c.id]));
    // Slugs: the ones given, and the plain slug of each new product's name.
    const wanted = rows.map((r) => r.product.slug ?? (known.has(r.product.sku) || !r.product.name ? undefined : slugify(r.product.name.trim()))).filter((s): s is string => !!s);
    const slugOwners = new Map((await this.imports.slugsTaken(tx, [...new Set(wanted)])).map((s) => [s.slug, s.id]));
    const sellers = new Map<number, boolean>();
    for (const vendor of new Set(rows.flatMap((r) => (r.product.vendor !== undefined && actor.admin && r.product.vendor !== actor.id ? [r.product.vendor] : [])))) {
      sellers.set(vendor, await this.sellers.canSell(tx, vendor));
    }

    const newProducts = new Map<string, NewProductRow>();
    const productChanges = new Map<string, ProductChangeRow>();
    const slugClaims = new Map<string, string>();
    const newVariants: { productSku: string; row: Omit<NewVariantRow, 'product_id'> }[] = [];
    const variantChanges: VariantChangeRow[] = [];
    const manages = (vendorId: number) => mayManage({ id: actor.id, username: '', role: actor.admin ? 'admin' : 'vendor' }, vendorId);

    for (const r of rows) {
      const p = r.product;
      const v = r.variant;
      const product = known.get(p.sku);
      const variant = variantsBySku.get(v.sku);
      const fail = (field: Parameters<AcceptedRow['field']>[0], message: string) => void reject(r.row, { field: r.field(field), message });
      if (product && !manages(product.vendor_id)) {
        fail('sku', 'is the SKU of another vendor’s product');
        continue;
      }
      if (variant && !manages(variant.vendor_id)) {
        fail('variant.sku', 'is the SKU of another vendor’s variant');
        continue;
      }
      if (variant && variant.product_sku !== p.sku) {
        fail('variant.sku', `is a variant of product ${variant.product_sku}, not of ${p.sku}`);
        continue;
      }
      if (p.currency !== undefined && p.currency !== this.options.currency) {
        fail('currency', `must be ${this.options.currency}, the store’s currency`);
        continue;
      }
      const category = this.category(p, categoryById, categoryBySlug);
      if ('issue' in category) {
        fail(category.issue, category.message);
        continue;
      }
      if (product && p.vendor !== undefined && p.vendor !== product.vendor_id) {
        fail('vendor', 'cannot change: a product stays with its vendor');
        continue;
      }
      if (!product) {
        if (p.name === undefined) {
          fail('name', 'is required for a new product');
          continue;
        }
        if (category.id === undefined) {
          fail('category', 'is required for a new product');
          continue;
        }
        if (p.vendor !== undefined && p.vendor !== actor.id) {
          if (!actor.admin) {
            fail('vendor', CatalogErrors.vendorMismatch().message);
            continue;
          }
          if (!sellers.get(p.vendor)) {
            fail('vendor', CatalogErrors.unknownVendor(p.vendor).message);
            continue;
          }
        }
      }
      if (!variant && v.price === undefined) {
        fail('variant.price', 'is required for a new variant');
        continue;
      }
      // Slugs are unique: one given must be free (or this product's own); a made one gets a suffix.
      let slug = p.slug;
      const claimed = (s: string) => (slugOwners.has(s) && slugOwners.get(s) !== product?.id) || (slugClaims.has(s) && slugClaims.get(s) !== p.sku);
      if (slug !== undefined && claimed(slug) && !newProducts.has(p.sku) && !productChanges.has(p.sku)) {
        fail('slug', CatalogErrors.slugTaken(slug).message);
        continue;
      }
      if (!product && !newProducts.has(p.sku)) {
        if (slug === undefined) {
          slug = slugify(p.name!.trim());
          while (claimed(slug)) slug = suffixed(slugify(p.name!.trim()));
        }
        slugClaims.set(slug, p.sku);
        newProducts.set(p.sku, {
          vendor_id: p.vendor ?? actor.id,
          category_id: category.id!,
          name: p.name!.trim(),
          slug,
          description: p.description ?? '',
          brand: p.brand?.trim() ?? '',
          sku: p.sku,
          images: p.images ?? [],
          tax_class: p.taxClass ?? 'standard',
          is_active: p.isActive ?? true,
        });
      } else if (product && !productChanges.has(p.sku)) {
        if (slug !== undefined) slugClaims.set(slug, p.sku);
        productChanges.set(p.sku, {
          id: product.id,
          category_id: category.id ?? null,
          name: p.name?.trim() ?? null,
          slug: slug ?? null,
          description: p.description ?? null,
          brand: p.brand?.trim() ?? null,
          images: p.images ?? null,
          tax_class: p.taxClass ?? null,
          is_active: p.isActive ?? null,
        });
      }
      if (variant) {
        variantChanges.push({
          id: variant.id,
          name: v.name ?? null,
          attributes: v.attributes ?? null,
          price: v.price === undefined ? null : normalizeMoney(v.price),
          stock: v.stock ?? null,
          weight_grams: v.weightGrams ?? null,
          is_active: v.isActive ?? null,
        });
      } else {
        newVariants.push({
          productSku: p.sku,
          row: { sku: v.sku, name: v.name ?? '', attributes: v.attributes ?? {}, price: normalizeMoney(v.price!), stock: v.stock ?? 0, weight_grams: v.weightGrams ?? 0, is_active: v.isActive ?? true },
        });
      }
    }
    return { known, variantsBySku, newProducts: [...newProducts.values()], productChanges: [...productChanges.values()], newVariants, variantChanges };
  }

  /** The row's category (an id, a slug, or both naming the same one), undefined when not given. */
  private category(p: ProductValues, ids: Set<number>, slugs: Map<string, number>): { id?: number } | { issue: 'category' | 'categorySlug'; message: string } {
    let id: number | undefined;
    if (p.category !== undefined) {
      id = typeof p.category === 'number' ? (ids.has(p.category) ? p.category : undefined) : slugs.get(p.category);
      if (id === undefined) return { issue: 'category', message: `Category ${p.category} does not exist.` };
    }
    if (p.categorySlug !== undefined) {
      const bySlug = slugs.get(p.categorySlug);
      if (bySlug === undefined) return { issue: 'categorySlug', message: `Category ${p.categorySlug} does not exist.` };
      if (id !== undefined && id !== bySlug) return { issue: 'categorySlug', message: `names another category than category ${String(p.category)}` };
      id = bySlug;
    }
    return { id };
  }

  /** product.created / product.updated and variant.stock_changed for the batch, in its transaction. */
  private async announce(tx: EntityManager, changes: { created: number[]; updated: number[]; stock: { id: number; product_id: number; sku: string; stock: number; previous: number }[] }): Promise<void> {
    if (this.events === noCatalogEvents) return;
    const created = new Set(changes.created);
    const ids = [...new Set([...changes.created, ...changes.updated])];
    for (const snapshot of await this.products.snapshots(tx, ids)) {
      await this.events.publish(tx, created.has(snapshot.productId) ? 'product.created' : 'product.updated', snapshot);
    }
    for (const v of changes.stock) {
      if (v.stock === v.previous) continue;
      await this.events.publish(tx, 'variant.stock_changed', { variantId: v.id, productId: v.product_id, sku: v.sku, stock: v.stock, previousStock: v.previous });
    }
  }

  private async visible(em: EntityManager, viewer: Principal, id: number): Promise<CatalogImport> {
    const entry = await this.imports.find(em, id);
    if (!entry || (viewer.role !== 'admin' && entry.user.id !== viewer.id)) throw DomainError.notFound('The import');
    return entry;
  }
}

