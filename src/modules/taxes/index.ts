/** Taxes: rates per country, region and tax class, and how an order's tax is computed. Owns `tax_rates`. */
import { TaxRate } from './tax-rate.entity';

/** The entities this context maps. */
export const taxesEntities = [TaxRate];
export {
  allocate,
  type BasketDiscount,
  type BasketLine,
  type BasketTotals,
  priceBasket,
  type RatesByClass,
  rateFromThousandths,
  rateOut,
  rateToThousandths,
  taxOn,
} from './tax-calculation';
export { TaxLookup, type TaxPlace } from './tax-lookup';
export { taxesHandlers, type TaxesDeps } from './taxes.handlers';
export { TaxesRepository } from './taxes.repository';
export { TaxesService } from './taxes.service';
