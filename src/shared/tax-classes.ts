/**
 * Tax classes: which of a destination's rates applies to a product. The catalog stores a product's
 * class; the taxes context holds the rates per class. `zero` is zero-rated wherever it goes.
 */
export const TAX_CLASSES = ['standard', 'reduced', 'zero'] as const;
export type TaxClass = (typeof TAX_CLASSES)[number];
