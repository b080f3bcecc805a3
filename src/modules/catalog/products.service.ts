import { ref } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import type { DomainError } from '../../shared/errors';
import { normalizeMoney } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { mayManage } from './access';
import type { CategoriesService } from './categories.service';
import { type CatalogPublisher, noCatalogEvents } from './catalog.events';
import { CatalogErrors } from './catalog.errors';
import { Category } from './category.entity';
import type { DiscoveryRepository, ProductDetail } from './discovery.repository';
import { ProductVariant } from './product-variant.entity';
import { Product } from './product.entity';
import type { ProductsRepository, VariantFilter } from './products.repository';
import { freeSlug } from './slugs';

export type ProductInput = components['schemas']['ProductCreate'];
export type ProductPatch = components['schemas']['ProductUpdate'];
export type VariantInput = components['schemas']['VariantCreate'];
export type VariantPatch = components['schemas']['VariantUpdate'];
type VariantFields = components['schemas']['VariantInput'];

/** Whether a product's images are managed elsewhere (uploaded media); the media context answers. */
export interface ImageSource {
  managesImages(em: EntityManager, productId: number): Promise<boolean>;
  /**
   * Called in the delete's transaction before the product row goes: its media rows go with it (by
   * cascade), so the media context captures their stored files now and has them removed once the
   * product is gone for good (a product deactivated instead keeps them).
   */
  productDeleting(em: EntityManager, productId: number): Promise<void>;
}

/** Who may sell in the catalog (an active vendor or admin); the accounts context answers. */
export interface Sellers {
  canSell(em: EntityManager, userId: number): Promise<boolean>;
}

/**
 * The catalog's writes: products and variants by their vendor or an admin, the variant lists of the
 * back office, and the rating aggregates reviews report. A product is read back after each write
 * through the read model (the database derives its price range and stock).
 */
export class ProductsService {
  constructor(
    private readonly products: ProductsRepository,
    private readonly details: DiscoveryRepository,
    private readonly categories: CategoriesService,
    private readonly sellers: Sellers,
    /** product.created/updated/deleted and variant.stock_changed, published in the change's transaction. */
    private readonly events: CatalogPublisher = noCatalogEvents,
    /** A product with uploaded media gets its images from them alone: `images` in a PATCH is then a 409. */
    private readonly imageSource: ImageSource = { managesImages: async () => false, productDeleting: async () => undefined },
  ) {}

  async create(em: EntityManager, actor: Principal, input: ProductInput): Promise<ProductDetail> {
    const vendorId = await this.vendorFor(em, actor, input.vendor);
    const categoryId = await this.categories.existing(em, input.category);
    const variants: VariantFields[] = input.variants ?? [{ sku: input.sku, price: input.price ?? missingPrice(), stock: input.stock ?? 0, weight_grams: input.weight_grams ?? 0 }];
    assertDistinctSkus(variants.map((v) => v.sku));
    const product = new Product(vendorId, categoryId, input.name.trim(), input.slug ?? (await freeSlug(em, Product, input.name)), input.sku);
    product.description = input.description ?? '';
    product.brand = input.brand?.trim() ?? '';
    product.images = input.images ?? [];
    if (input.tax_class !== undefined) product.taxClass = input.tax_class;
    if (input.is_active !== undefined) product.isActive = input.is_active;
    await em.transactional(async (tx) => {
      tx.persist(product);
      for (const v of variants) tx.persist(buildVariant(product, v));
      await this.flush(tx, product.slug);
      await this.announce(tx, 'product.created', product.id);
    });
    return this.details.detailAfterWrite(em, product.id);
  }

  async update(em: EntityManager, actor: Principal, id: number, patch: ProductPatch): Promise<ProductDetail> {
    const product = await em.transactional(async (tx) => {
      // Locks the product first: stock changes elsewhere (checkout) lock products before variants too.
      const product = await this.productForWrite(tx, actor, id, true);
      let stockChange: { variant: ProductVariant; previous: number } | undefined;
      if (patch.price !== undefined || patch.stock !== undefined) {
        const [only, ...more] = await this.products.variantsOf(tx, id);
        if (!only || more.length) throw CatalogErrors.productHasVariants();
        if (patch.price !== undefined) only.price = normalizeMoney(patch.price);
        if (patch.stock !== undefined && patch.stock !== only.stock) {
          stockChange = { variant: only, previous: only.stock };
          only.stock = patch.stock;
        }
      }
      if (patch.category !== undefined) product.category = tx.getReference(Category, await this.categories.existing(tx, patch.category), { wrapped: true });
      if (patch.name !== undefined) product.name = patch.name.trim();
      if (patch.slug !== undefined) product.slug = patch.slug;
      if (patch.description !== undefined) product.description = patch.description;
      if (patch.brand !== undefined) product.brand = patch.brand.trim();
      if (patch.images !== undefined) {
        if (await this.imageSource.managesImages(tx, id)) throw CatalogErrors.imagesFromMedia();
        product.images = patch.images;
      }
      if (patch.tax_class !== undefined) product.taxClass = patch.tax_class;
      if (patch.is_active !== undefined) product.isActive = patch.is_active;
      await this.flush(tx, product.slug);
      if (stockChange) await this.stockChanged(tx, stockChange.variant, stockChange.previous);
      await this.announce(tx, 'product.updated', product.id);
      return product;
    });
    return this.details.detailAfterWrite(em, product.id);
  }

  /**
   * Deletes the product and its variants, or deactivates it when orders refer to it. Its media
   * (and their stored files) go with a deleted product: the media context is told first, while
   * their rows can still be read.
   */
  async delete(em: EntityManager, actor: Principal, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      // A plain read (no row lock): the media context then takes its own lock before the row is
      // deleted, the same order as its uploads and resizes (never a cycle).
      await this.productForWrite(tx, actor, id);
      await this.imageSource.productDeleting(tx, id);
      await this.products.deleteOrDeactivateProduct(tx, id);
      await this.events.publish(tx, 'product.deleted', { productId: id });
    });
  }

  listVariants(em: EntityManager, viewer: Principal | null, filter: VariantFilter, pick: PagePicker): Promise<Listing<ProductVariant>> {
    return this.products.listVariants(em, viewer, filter, pick);
  }

  async getVariant(em: EntityManager, viewer: Principal | null, id: number): Promise<ProductVariant> {
    const variant = await this.products.variant(em, id);
    if (!variant) throw CatalogErrors.variantNotFound();
    const product = variant.product.getEntity();
    if (!mayManage(viewer, product.vendor.id) && !(variant.isActive && product.isActive)) throw CatalogErrors.variantNotFound();
    return variant;
  }

  async createVariant(em: EntityManager, actor: Principal, input: VariantInput): Promise<ProductVariant> {
    const product = await this.products.product(em, input.product);
    if (!product) throw CatalogErrors.unknownProduct(input.product);
    assertMayManage(actor, product, () => CatalogErrors.unknownProduct(input.product));
    const variant = buildVariant(product, input);
    em.persist(variant);
    await this.flush(em);
    return variant;
  }

  async updateVariant(em: EntityManager, actor: Principal, id: number, patch: VariantPatch): Promise<ProductVariant> {
    return em.transactional(async (tx) => {
      const variant = await this.variantForWrite(tx, actor, id);
      // Product before variant, the lock order every stock change follows.
      await this.products.lockProduct(tx, variant.product.id);
      if (patch.sku !== undefined) variant.sku = patch.sku;
      if (patch.name !== undefined) variant.name = patch.name;
      if (patch.attributes !== undefined) variant.attributes = patch.attributes;
      if (patch.price !== undefined) variant.price = normalizeMoney(patch.price);
      const previousStock = variant.stock;
      if (patch.stock !== undefined) variant.stock = patch.stock;
      if (patch.weight_grams !== undefined) variant.weightGrams = patch.weight_grams;
      if (patch.is_active !== undefined) variant.isActive = patch.is_active;
      await this.flush(tx);
      if (variant.stock !== previousStock) await this.stockChanged(tx, variant, previousStock);
      return variant;
    });
  }

  /** Deletes a variant (a product keeps at least one), or deactivates it when orders refer to it. */
  async deleteVariant(em: EntityManager, actor: Principal, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      const variant = await this.variantForWrite(tx, actor, id);
      // Lock the product so two deletions cannot remove its last two variants at once.
      await this.products.lockProduct(tx, variant.product.id);
      if ((await this.products.countVariants(tx, variant.product.id)) <= 1) throw CatalogErrors.lastVariant();
      await this.products.deleteOrDeactivateVariant(tx, id);
    });
  }

  /** Records what the reviews of a product add up to (the reviews context computes it). */
  recordRating(em: EntityManager, productId: number, rating: { average: string; count: number }): Promise<void> {
    return this.products.setRating(em, productId, rating.average, rating.count);
  }

  /**
   * Sets a product's `images` to the URLs given, in their order (the media context calls it, in its
   * transaction, after every change of the product's media). Nothing is written when they are the
   * same; a product deleted meanwhile is left alone.
   */
  async replaceImages(em: EntityManager, productId: number, urls: readonly string[]): Promise<void> {
    const product = await this.products.product(em, productId);
    if (!product || (product.images.length === urls.length && product.images.every((u, i) => u === urls[i]))) return;
    product.images = [...urls];
    await em.flush();
    await this.announce(em, 'product.updated', productId);
  }

  /** Throws the catalog's refusal (404; 403 NOT_OWNER for another vendor's listed product) unless the actor may change the product. */
  async assertManageable(em: EntityManager, actor: Principal, productId: number): Promise<void> {
    await this.productForWrite(em, actor, productId);
  }

  /** Whether the viewer sees the product: it is active, or the viewer is its vendor or an admin. */
  async isVisible(em: EntityManager, viewer: Principal | null, productId: number): Promise<boolean> {
    const product = await this.products.product(em, productId);
    return !!product && (product.isActive || mayManage(viewer, product.vendor.id));
  }

  /** Announces a product's change with its snapshot as the transaction sees it now. */
  private async announce(tx: EntityManager, name: 'product.created' | 'product.updated', productId: number): Promise<void> {
    const snapshot = await this.products.snapshot(tx, productId);
    if (snapshot) await this.events.publish(tx, name, snapshot);
  }

  private stockChanged(tx: EntityManager, variant: ProductVariant, previousStock: number): Promise<void> {
    return this.events.publish(tx, 'variant.stock_changed', {
      variantId: variant.id,
      productId: variant.product.id,
      sku: variant.sku,
      stock: variant.stock,
      previousStock,
    });
  }

  private async variantForWrite(em: EntityManager, actor: Principal, id: number): Promise<ProductVariant> {
    const variant = await this.products.variant(em, id);
    if (!variant) throw CatalogErrors.variantNotFound();
    assertMayManage(actor, variant.product.getEntity(), () => CatalogErrors.variantNotFound());
    return variant;
  }

  /** A product the actor may change: another vendor's answers 403 if the public can see it, else 404. */
  private async productForWrite(em: EntityManager, actor: Principal, id: number, lock = false): Promise<Product> {
    const product = await this.products.product(em, id, { lock });
    if (!product) throw CatalogErrors.productNotFound();
    assertMayManage(actor, product, () => CatalogErrors.productNotFound());
    return product;
  }

  private async vendorFor(em: EntityManager, actor: Principal, requested: number | undefined): Promise<number> {
    if (requested === undefined || requested === actor.id) return actor.id;
    if (actor.role !== 'admin') throw CatalogErrors.vendorMismatch();
    if (!(await this.sellers.canSell(em, requested))) throw CatalogErrors.unknownVendor(requested);
    return requested;
  }

  /** Flushes; a duplicate slug or SKU (the unique indexes decide) is a 409. */
  private flush(em: EntityManager, slug?: string): Promise<void> {
    return refuseViolations(() => em.flush(), {
      unique: (constraint) => (constraint.includes('slug') && slug ? CatalogErrors.slugTaken(slug) : CatalogErrors.skuTaken()),
    });
  }
}

function buildVariant(product: Product, input: VariantFields): ProductVariant {
  const variant = new ProductVariant(ref(product), input.sku, normalizeMoney(input.price));
  variant.name = input.name ?? '';
  variant.attributes = input.attributes ?? {};
  variant.stock = input.stock ?? 0;
  variant.weightGrams = input.weight_grams ?? 0;
  if (input.is_active !== undefined) variant.isActive = input.is_active;
  return variant;
}

function assertMayManage(actor: Principal, product: Product, invisible: () => DomainError): void {
  if (mayManage(actor, product.vendor.id)) return;
  throw product.isActive ? CatalogErrors.notOwner() : invisible();
}

function missingPrice(): never {
  throw CatalogErrors.priceRequired();
}

function assertDistinctSkus(skus: string[]): void {
  const seen = new Set<string>();
  for (const sku of skus) {
    if (seen.has(sku)) throw CatalogErrors.skuTaken(sku);
    seen.add(sku);
  }
}
