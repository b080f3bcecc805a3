import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventPublisher } from '../../shared/events';

/** A product as its events carry it: a snapshot taken inside the transaction that changed it. */
export interface ProductEvent {
  productId: number;
  name: string;
  slug: string;
  sku: string;
  /** The lowest active variant price (a decimal string, derived by the database). */
  price: string;
  isActive: boolean;
  categoryId: number;
  vendorId: number;
  /** Units in stock over the product's variants. */
  stock: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One variant's stock moved (a sale, a cancellation, a return, or a vendor or admin setting it). */
export interface StockChangedEvent {
  variantId: number;
  productId: number;
  sku: string;
  stock: number;
  previousStock: number;
}

/** What the catalog announces, published inside the transaction that makes the change. */
export interface CatalogEvents {
  'product.created': ProductEvent;
  'product.updated': ProductEvent;
  /** Deleted, or deactivated because orders refer to it: either way it left the catalog. */
  'product.deleted': { productId: number };
  'variant.stock_changed': StockChangedEvent;
}

export type CatalogPublisher = EventPublisher<CatalogEvents, EntityManager>;

/** Publishes nothing (a catalog built without listeners: tools, some tests). */
export const noCatalogEvents: CatalogPublisher = { publish: async () => undefined };
