import { DomainError } from '../../shared/errors';

/** The catalog's failures; codes are documented in the contract's responses. */
export const CatalogErrors = {
  categoryNotFound: () => DomainError.notFound('The category'),
  productNotFound: () => DomainError.notFound('The product'),
  variantNotFound: () => DomainError.notFound('The variant'),
  unknownCategory: (id: number) => new DomainError('unprocessable', 'UNKNOWN_CATEGORY', `Category ${id} does not exist.`),
  unknownProduct: (id: number) => new DomainError('unprocessable', 'UNKNOWN_PRODUCT', `Product ${id} does not exist.`),
  unknownVendor: (id: number) => new DomainError('unprocessable', 'UNKNOWN_VENDOR', `User ${id} is not an active vendor or admin.`),
  categoryCycle: () =>
    new DomainError('unprocessable', 'CATEGORY_CYCLE', 'A category cannot be moved under itself or one of its descendants.'),
  priceRequired: () =>
    new DomainError('unprocessable', 'PRICE_REQUIRED', 'Give the product a price (for its default variant) or a list of variants.', {
      errors: [{ field: 'body.price', message: 'is required when variants are not given' }],
    }),
  slugTaken: (slug: string) => new DomainError('conflict', 'SLUG_TAKEN', `The slug ${slug} is already used.`),
  skuTaken: (sku?: string) => new DomainError('conflict', 'SKU_TAKEN', sku ? `The SKU ${sku} is already used.` : 'A SKU is already used.'),
  categoryNotEmpty: () =>
    new DomainError('conflict', 'CATEGORY_NOT_EMPTY', 'The category still has subcategories or products; move or deactivate it instead.'),
  productHasVariants: () =>
    new DomainError('conflict', 'PRODUCT_HAS_VARIANTS', 'The product has several variants: change price and stock on each variant.'),
  imagesFromMedia: () =>
    new DomainError('conflict', 'IMAGES_FROM_MEDIA', "The product's images come from its uploaded media: reorder, upload or delete media instead.", {
      errors: [{ field: 'body.images', message: "is set from the product's media" }],
    }),
  lastVariant: () => new DomainError('conflict', 'LAST_VARIANT', 'A product keeps at least one variant; delete the product instead.'),
  notOwner: () => new DomainError('forbidden', 'NOT_OWNER', 'Only the product’s vendor or an admin may change it.'),
  vendorMismatch: () => new DomainError('forbidden', 'FORBIDDEN', 'Vendors sell their own products: leave `vendor` out.'),
  statusForbidden: () => new DomainError('forbidden', 'FORBIDDEN', 'Only admins and vendors may list inactive items.'),
  relevanceNeedsSearch: () => DomainError.invalid('query.ordering', 'ordering=relevance needs a search.', 'VALIDATION_ERROR'),
  insufficientStock: (variant: number, available: number) =>
    new DomainError('conflict', 'INSUFFICIENT_STOCK', `Only ${available} unit(s) of variant ${variant} are in stock.`, { available, variant }),
};
