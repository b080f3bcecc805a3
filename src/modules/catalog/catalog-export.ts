import { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { stringify } from 'csv-stringify/sync';
import { moneyOut } from '../../shared/money';
import type { Principal } from '../../shared/principal';
import type { ImportFormat } from './catalog-import.entity';
import type { CatalogImportRepository, ExportRow } from './catalog-import.repository';
import { CSV_COLUMNS } from './catalog-import.rows';
import type { DiscoveryService, ProductFilter } from './discovery.service';

/** Products per page read from the database (and written out before the next is read). */
const PAGE = 1000;

/** A file being written: what to send it as, and its bytes as they are produced. */
export interface ExportFile {
  contentType: string;
  filename: string;
  stream: Readable;
}

/**
 * Catalog export: the products the caller manages that match a discovery filter, with their
 * variants, as CSV (one row per variant, the columns the import reads) or JSON Lines (one product
 * per line). Streamed: keyset pages of products in id order are read and written one at a time, so
 * memory holds one page whatever the catalog's size.
 */
export class CatalogExportService {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly rows: CatalogImportRepository,
    private readonly currency: string,
  ) {}

  /**
   * The file. Its first page is read before answering, so a database that cannot serve the export
   * answers with a problem (503) rather than a cut-off file; the rest is read as the stream is.
   */
  async export(em: EntityManager, viewer: Principal, format: ImportFormat, filter: ProductFilter): Promise<ExportFile> {
    const pages = this.pages(em, viewer, filter);
    const write = format === 'csv' ? (rows: ExportRow[], first: boolean) => this.csv(rows, first) : (rows: ExportRow[]) => this.jsonl(rows);
    const head = await pages.next();
    async function* chunks(): AsyncGenerator<string> {
      // A CSV file always has its header, even with no product.
      if (head.done) {
        if (format === 'csv') yield write([], true);
        return;
      }
      yield write(head.value, true);
      for await (const rows of pages) yield write(rows, false);
    }
    return {
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      filename: format === 'csv' ? 'products.csv' : 'products.jsonl',
      stream: Readable.from(chunks(), { objectMode: false }),
    };
  }

  private async *pages(em: EntityManager, viewer: Principal, filter: ProductFilter): AsyncGenerator<ExportRow[]> {
    for await (const products of this.discovery.scan(em, viewer, filter, PAGE)) {
      yield await this.rows.exportRows(em, products.map((p) => p.id));
    }
  }

  private csv(rows: ExportRow[], header: boolean): string {
    const records = rows.map((r) => [
      r.product_sku, r.name, r.slug, r.description, r.brand, r.category_id, r.category_slug, r.vendor_id, r.tax_class, r.is_active, r.images.join('|'),
      r.sku, r.variant_name, JSON.stringify(r.attributes), moneyOut(r.price), this.currency, r.stock, r.weight_grams, r.variant_is_active,
    ]);
    return stringify(header ? [[...CSV_COLUMNS], ...records] : records, { cast: { boolean: (b) => String(b) } });
  }

  private jsonl(rows: ExportRow[]): string {
    let out = '';
    for (let i = 0; i < rows.length; ) {
      const p = rows[i]!;
      const variants = [];
      for (; i < rows.length && rows[i]!.id === p.id; i++) {
        const v = rows[i]!;
        variants.push({ sku: v.sku, name: v.variant_name, attributes: v.attributes, price: moneyOut(v.price), stock: v.stock, weight_grams: v.weight_grams, is_active: v.variant_is_active });
      }
      const line = {
        sku: p.product_sku, name: p.name, slug: p.slug, description: p.description, brand: p.brand, category: p.category_id, category_slug: p.category_slug,
        vendor: p.vendor_id, tax_class: p.tax_class, is_active: p.is_active, images: p.images, currency: this.currency, variants,
      };
      out += `${JSON.stringify(line)}\n`;
    }
    return out;
  }
}
