import type { components } from '../../generated/openapi';

/**
 * What resolvers hand to the fields of a type (GraphQL Code Generator's `mappers`): the REST
 * contract's DTOs, built by the modules' mappers, so both APIs show the same values.
 */
type Schemas = components['schemas'];

/** A product from a list (ProductSummary) or its detail (Product): detail fields are loaded when asked for. */
export type ProductParent = Omit<Schemas['ProductSummary'], 'image'> &
  Partial<Pick<Schemas['ProductSummary'], 'image'>> &
  Partial<Omit<Schemas['Product'], keyof Schemas['ProductSummary']>>;
export type VariantParent = Schemas['Variant'];
export type CartVariantParent = Schemas['CartItem']['variant'];
export type WishlistItemParent = Schemas['WishlistItem'];
/** A product's category, or only its id when that is all the query selects (Product.category). */
export type CategoryParent = Schemas['Category'] | Pick<Schemas['Category'], 'id'>;
export type ReviewParent = Schemas['Review'];
export type OrderParent = Schemas['Order'];
export type OrderSummaryParent = Schemas['OrderSummary'];
export type CartParent = Schemas['Cart'];
export type UserParent = Schemas['User'];
