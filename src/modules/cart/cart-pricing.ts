import type { EntityManager } from '@mikro-orm/postgresql';
import type { TaxClass } from '../../shared/tax-classes';
import { type ShippingOptions, type ShippingQuote } from '../shipping';
import { type BasketDiscount, type BasketTotals, priceBasket, type TaxLookup } from '../taxes';
import { CartErrors } from './cart.errors';

/** A line to price: its line total (minor units), what taxes it and what it weighs. */
export interface PricingLine {
  productId: number;
  lineTotal: number;
  quantity: number;
  taxClass: TaxClass;
  weightGrams: number;
}

/** Where the order goes: an address (its id, for messages) and the shipping method asked for. */
export interface PricingDestination {
  /** The address book entry (null: a guest's country and region). */
  addressId: number | null;
  country: string;
  region: string;
  /** A method id; 'cheapest': the cheapest serving the address (none: 422); null: no shipping yet. */
  method: number | 'cheapest' | null;
}

export interface Quote extends BasketTotals {
  method: ShippingQuote | null;
  taxesIncluded: boolean;
}

/**
 * Prices lines for a destination: shipping (by the address's zone, on the subtotal after discount
 * and the weight of every unit) and tax (by the address's rates). The cart shows it and checkout
 * charges it, so both always agree. The arithmetic is `priceBasket`'s.
 */
export class CartPricing {
  constructor(
    private readonly shipping: ShippingOptions,
    private readonly taxes: TaxLookup,
    private readonly settings: { taxesIncluded: boolean },
  ) {}

  get taxesIncluded(): boolean {
    return this.settings.taxesIncluded;
  }

  /** The quote; without a destination, no shipping and no tax (null). */
  async quote(em: EntityManager, lines: readonly PricingLine[], discount: BasketDiscount | null, destination: PricingDestination | null): Promise<Quote> {
    const taxesIncluded = this.settings.taxesIncluded;
    const basket = (rates: Awaited<ReturnType<TaxLookup['ratesAt']>> | null, method: ShippingQuote | null) =>
      priceBasket({ lines, discount, rates, taxesIncluded, shipping: method && { price: method.price, taxable: method.taxable } });
    if (!destination) return { ...basket(null, null), method: null, taxesIncluded };
    const rates = await this.taxes.ratesAt(em, destination);
    const method = destination.method === null ? null : await this.method(em, lines, discount, destination);
    return { ...basket(rates, method), method, taxesIncluded };
  }

  /** The methods serving the address for these lines, cheapest first. */
  options(em: EntityManager, lines: readonly PricingLine[], discount: BasketDiscount | null, place: { country: string; region: string }): Promise<ShippingQuote[]> {
    const goods = lines.reduce((s, l) => s + l.lineTotal, 0) - (discount?.amount ?? 0);
    const weightGrams = lines.reduce((s, l) => s + l.weightGrams * l.quantity, 0);
    return this.shipping.quotes(em, place, { goods, weightGrams });
  }

  private async method(em: EntityManager, lines: readonly PricingLine[], discount: BasketDiscount | null, destination: PricingDestination): Promise<ShippingQuote> {
    const quotes = await this.options(em, lines, discount, destination);
    if (destination.method === 'cheapest') {
      const cheapest = quotes[0];
      if (!cheapest) throw CartErrors.noShippingMethod(destination.addressId, destination.country, destination.region);
      return cheapest;
    }
    const id = destination.method;
    const chosen = quotes.find((q) => q.id === id);
    if (!chosen) throw CartErrors.unknownShippingMethod(id as number, destination.addressId, destination.country);
    return chosen;
  }
}
