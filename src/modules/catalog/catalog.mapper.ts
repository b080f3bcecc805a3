import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import { toIso } from '../../shared/time';
import type { CatalogImport, CatalogImportIssue } from './catalog-import.entity';
import type { Category } from './category.entity';
import type { ProductDetail, VariantView } from './discovery.repository';
import type { ProductFilter } from './discovery.service';
import type { ProductRow } from './discovery.sql';
import type { ProductVariant } from './product-variant.entity';

type CategoryDto = components['schemas']['Category'];
type ProductSummaryDto = components['schemas']['ProductSummary'];
type ProductDto = components['schemas']['Product'];
type VariantDto = components['schemas']['Variant'];
type CatalogImportDto = components['schemas']['CatalogImport'];
type CatalogImportIssueDto = components['schemas']['CatalogImportIssue'];

const rating = (avg: string, count: number) => ({ average: Number(avg).toFixed(2), count });

export function toCategoryDto(c: Category): CategoryDto {
  return {
    id: c.id,
    name: c.name,
    slug: c.slug,
    description: c.description,
    parent: c.parent?.id ?? null,
    is_active: c.isActive,
    created_at: toIso(c.createdAt),
    updated_at: toIso(c.updatedAt),
  };
}

/** A list row (selected columns only) as the contract's ProductSummary. */
export function toProductSummaryDto(r: ProductRow, currency: string): ProductSummaryDto {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    brand: r.brand,
    category: r.category_id,
    vendor: r.vendor_id,
    price: moneyOut(r.price),
    price_range: { min: moneyOut(r.price), max: moneyOut(r.max_price) },
    currency,
    stock: r.stock,
    in_stock: r.in_stock,
    rating: rating(r.rating_avg, r.rating_count),
    image: r.image ?? null,
    is_active: r.is_active,
    created_at: toIso(r.created_at),
  };
}

export function toVariantDto(v: VariantView | ProductVariant, currency: string): VariantDto {
  return {
    id: v.id,
    product: v.product.id,
    sku: v.sku,
    name: v.name,
    attributes: v.attributes,
    price: moneyOut(v.price),
    currency,
    stock: v.stock,
    in_stock: v.isActive && v.stock > 0,
    weight_grams: v.weightGrams,
    is_active: v.isActive,
    created_at: toIso(v.createdAt),
    updated_at: toIso(v.updatedAt),
  };
}

export function toProductDto(p: ProductDetail, currency: string): ProductDto {
  return {
    id: p.id,
    name: p.name,
    slug: p.slug,
    description: p.description,
    brand: p.brand,
    sku: p.sku,
    category: p.category_id,
    breadcrumbs: p.breadcrumbs,
    vendor: p.vendor_id,
    price: moneyOut(p.price),
    price_range: { min: moneyOut(p.price), max: moneyOut(p.max_price) },
    currency,
    stock: p.stock,
    in_stock: p.in_stock,
    rating: rating(p.rating_avg, p.rating_count),
    images: p.images,
    tax_class: p.tax_class,
    is_active: p.is_active,
    created_at: toIso(p.created_at),
    updated_at: toIso(p.updated_at),
    variants: p.variants.map((v) => toVariantDto(v, currency)),
  };
}

/** The discovery filter as both APIs spell it (`min_price`, `brand`...: the REST query, GraphQL's ProductFilter). */
export interface ProductFilterParams {
  category?: string;
  min_price?: string;
  max_price?: string;
  in_stock?: boolean;
  brand?: string[];
  vendor?: number;
  search?: string;
}

/** Those parameters as the read model's filter. */
export function productFilter(q: ProductFilterParams): ProductFilter {
  return { category: q.category, minPrice: q.min_price, maxPrice: q.max_price, inStock: q.in_stock, brands: q.brand, vendorId: q.vendor, search: q.search };
}

export function toImportIssueDto(i: CatalogImportIssue): CatalogImportIssueDto {
  return { row: i.row, field: i.field, message: i.message };
}

/** An import with its first rejected rows. */
export function toCatalogImportDto(i: CatalogImport, issues: CatalogImportIssue[]): CatalogImportDto {
  return {
    id: i.id,
    status: i.status,
    format: i.format,
    rows_total: i.rowsTotal,
    rows_done: i.rowsDone,
    created: i.created,
    updated: i.updated,
    rejected: i.rejected,
    errors: issues.map(toImportIssueDto),
    failure_reason: i.failureReason,
    created_at: toIso(i.createdAt),
    started_at: i.startedAt ? toIso(i.startedAt) : null,
    finished_at: i.finishedAt ? toIso(i.finishedAt) : null,
  };
}
