/**
 * Catalog: categories, products, variants, their stock and its ledger. Owns the tables
 * `categories`, `products`, `product_variants`, `inventory_movements` and `discount_products`'s
 * target. Other contexts read it through `CatalogReader` and move stock through `InventoryService`.
 */
import { CatalogImport, CatalogImportIssue } from './catalog-import.entity';
import { Category } from './category.entity';
import { InventoryMovement } from './inventory-movement.entity';
import { ProductVariant } from './product-variant.entity';
import { Product } from './product.entity';

export { catalogHandlers, type CatalogDeps } from './catalog.handlers';
export { productFilter, toCategoryDto, toProductDto, toProductSummaryDto, toVariantDto } from './catalog.mapper';
export { CatalogErrors } from './catalog.errors';
export { CatalogExportService } from './catalog-export';
export { CatalogImportRepository } from './catalog-import.repository';
export { CatalogImportService, type ImportJobs } from './catalog-import.service';
export { type FieldRules } from './catalog-import.rows';
export { type CatalogEvents, type CatalogPublisher, type ProductEvent, type StockChangedEvent } from './catalog.events';
export { LISTED_PRODUCT_IDS } from './access';
export { CatalogReader, type SaleLine } from './catalog.reader';
export { CategoriesRepository } from './categories.repository';
export { CategoriesService } from './categories.service';
export { DiscoveryRepository, type ProductDetail } from './discovery.repository';
export { DiscoveryService, type ProductFilter, type ProductListInput, type ProductListing } from './discovery.service';
export { sortKeyOf, type ProductOrdering, type ProductRow, LIST_COLUMNS } from './discovery.sql';
export { InventoryRepository } from './inventory.repository';
export { InventoryService, type StockLine } from './inventory.service';
export { ProductsRepository } from './products.repository';
export { ProductsService, type ImageSource, type Sellers } from './products.service';

/** The entities this context maps. */
export const catalogEntities = [Category, Product, ProductVariant, InventoryMovement, CatalogImport, CatalogImportIssue];
