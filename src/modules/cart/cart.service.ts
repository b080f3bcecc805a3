import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../../shared/errors';
import { fromMinor, toMinor } from '../../shared/money';
import type { Guest, Principal } from '../../shared/principal';
import type { TaxClass } from '../../shared/tax-classes';
import type { ShippingAddress } from '../addresses';
import { CatalogErrors, type CatalogReader, type SaleLine } from '../catalog';
import { type AppliedDiscount, type DiscountsService, priceLines } from '../discounts';
import type { ShippingQuote } from '../shipping';
import type { BasketDiscount } from '../taxes';
import type { CartPricing, PricingDestination, PricingLine, Quote } from './cart-pricing';
import { CartErrors } from './cart.errors';
import type { CartItemRow, CartRepository } from './cart.repository';

const MAX_LINE_QUANTITY = 100;
/** Lines of one cart (the contract's Cart.items holds at most 100). */
export const MAX_CART_LINES = 100;
/**
 * The most an order can hold, in minor units: its amounts are numeric(12,2), so 9999999999.99.
 * Unit prices are at most 999999.99 (the contract's PriceInput), so 100 lines of 100 units stay
 * below it; prices stored before that bound can still add up past it.
 */
export const MAX_ORDER_TOTAL = 999_999_999_999;

export interface CartLine {
  id: number;
  quantity: number;
  addedUnitPrice: string;
  unitPrice: string;
  variant: { id: number; sku: string; name: string; attributes: Record<string, string> };
  product: { id: number; name: string; slug: string; image: string | null };
  available: number;
  problem: 'unavailable' | 'insufficient_stock' | null;
  /** Minor units; 0 for unavailable lines. */
  lineTotal: number;
  /** Minor units: the line's share of the discount. */
  discount: number;
  /** Thousandths of a percent, and minor units: null without an address. */
  taxRate: number | null;
  tax: number | null;
}

export interface CartView {
  id: number;
  couponCode: string | null;
  updatedAt: Date;
  lines: CartLine[];
  itemCount: number;
  /** Minor units. */
  subtotal: number;
  /** Minor units: what the applied code is worth now (0 if it no longer applies). */
  discount: number;
  /** Why the applied code is worth nothing now, as its problem code. */
  couponProblem: string | null;
  /** Minor units: null without an address (tax) or a shipping method (shipping). */
  shipping: number | null;
  tax: number | null;
  total: number;
  taxesIncluded: boolean;
  /** The address and method the shipping and tax are for. */
  shippingAddressId: number | null;
  shippingMethod: ShippingQuote | null;
}

/** Where the shopper wants the cart priced for: an address of theirs (or a country and region), and a method serving it. */
export interface CartDestination {
  address?: number | undefined;
  /** Instead of `address` (guests have no address book). */
  country?: string | undefined;
  region?: string | undefined;
  shippingMethod?: number | undefined;
}

/**
 * Whose cart: an account's (by its user, the cart made on first use) or a guest's (by the cart its
 * token named). Resolved once by the adapters; the one cart code path below serves both.
 */
export type CartOwner = { userId: number } | { cartId: number };

/** The cart owner a caller stands for: a signed-in user's cart, else the guest's. */
export function cartOwnerOf(user: Principal | null, guest: Guest | null): CartOwner {
  if (user) return { userId: user.id };
  if (guest) return { cartId: guest.cartId };
  throw CartErrors.invalidCartToken();
}

const userOf = (owner: CartOwner): number | null => ('userId' in owner ? owner.userId : null);
const CART_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** How a cart token is stored (and how orders placed from its cart carry it): its SHA-256, hex. */
export const cartTokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A budget per key over a window (a failure limiter, counting uses): seconds to wait when spent, else 0. */
export interface Allowance {
  blockedFor(key: string): Promise<number>;
  /** Spends one; the seconds to wait if that spent the budget, else 0. */
  fail(key: string): Promise<number>;
}

/** The shopper's address book (the addresses context answers). */
export interface CartAddressBook {
  shippingAddress(em: EntityManager, owner: { id: number }, id: number): Promise<ShippingAddress | null>;
}

/** Where a cart is priced for: an address of the owner's book, or a guest's country and region. */
export interface Place {
  addressId: number | null;
  country: string;
  region: string;
}

/** A cart line as checkout needs it: current price, stock and whether it can be sold. */
export interface CheckoutLine {
  id: number;
  quantity: number;
  variantId: number;
  productId: number;
  productName: string;
  variantName: string;
  sku: string;
  price: string;
  stock: number;
  sellable: boolean;
  taxClass: TaxClass;
  weightGrams: number;
}

/** The shopper's cart, priced at current prices (asked of the catalog) on every read. */
export class CartService {
  constructor(
    private readonly carts: CartRepository,
    private readonly catalog: CatalogReader,
    private readonly discounts: DiscountsService,
    private readonly pricing: CartPricing,
    private readonly addresses: CartAddressBook,
    /** Guest carts started per client address (GUEST_CARTS_PER_HOUR). */
    private readonly guestStarts: Allowance = { blockedFor: async () => 0, fail: async () => 0 },
  ) {}

  /**
   * The cart with every line priced now, problems flagged and totals in minor units. With an
   * address (of the owner's), each line's tax and the cart's; with a shipping method serving it
   * too, its shipping, as checkout would charge them.
   */
  async view(em: EntityManager, owner: CartOwner, destination: CartDestination = {}): Promise<CartView> {
    const place = await this.place(em, owner, destination, false);
    const id = await this.carts.cartId(em, owner);
    const [cart, items] = await Promise.all([this.header(em, id), this.carts.items(em, id)]);
    const rows = await this.saleRows(em, items);
    const lines = rows.map((r) => priced(r.item, r.line));
    const buyable = rows.filter((r) => r.line.sellable);
    const pricing = buyable.map((r): PricingLine => pricingLine(r.line, r.item.quantity));
    const { discount, couponProblem } = await this.couponValue(em, userOf(owner), cart.couponCode, pricing);
    const quote = await this.pricing.quote(em, pricing, discount, place && { ...place, method: destination.shippingMethod ?? null });
    const shares = new Map(buyable.map((r, i) => [r.item.id, quote.lines[i]!]));
    for (const l of lines) {
      const share = shares.get(l.id);
      if (share) Object.assign(l, { discount: share.discount, taxRate: share.taxRate, tax: share.tax });
    }
    return {
      id,
      couponCode: cart.couponCode,
      updatedAt: cart.updatedAt,
      lines,
      itemCount: buyable.reduce((n, r) => n + r.item.quantity, 0),
      subtotal: quote.subtotal,
      discount: quote.discount,
      couponProblem,
      shipping: quote.shipping,
      tax: quote.tax,
      total: quote.total,
      taxesIncluded: quote.taxesIncluded,
      shippingAddressId: place?.addressId ?? null,
      shippingMethod: quote.method,
    };
  }

  /**
   * The methods serving one of the owner's addresses (or a country and region), each priced for the
   * cart now, cheapest first; `place` says where they were asked for.
   */
  async shippingOptions(em: EntityManager, owner: CartOwner, destination: CartDestination): Promise<{ place: Place; options: ShippingQuote[] }> {
    const place = (await this.place(em, owner, destination, true))!;
    const id = await this.carts.cartId(em, owner);
    const [cart, { lines }] = await Promise.all([this.header(em, id), this.linesOf(em, id)]);
    const pricing = lines.filter((l) => l.sellable).map((l) => pricingLine(l, l.quantity));
    const { discount } = await this.couponValue(em, userOf(owner), cart.couponCode, pricing);
    return { place, options: await this.pricing.options(em, pricing, discount, place) };
  }

  /**
   * Where a destination points: an address of the owner's (guests have none: 422 UNKNOWN_ADDRESS),
   * or a country and region; exactly one of them (400 naming the field), and a method only with one.
   */
  private async place(em: EntityManager, owner: CartOwner, d: CartDestination, required: boolean): Promise<Place | null> {
    if (d.address !== undefined && d.country !== undefined) throw CartErrors.addressOrCountry();
    if (d.region !== undefined && d.country === undefined) throw CartErrors.regionNeedsCountry();
    if (d.country !== undefined) return { addressId: null, country: d.country, region: d.region ?? '' };
    if (d.address === undefined) {
      if (required) throw CartErrors.placeNeeded();
      if (d.shippingMethod !== undefined) throw CartErrors.methodNeedsAddress();
      return null;
    }
    const userId = userOf(owner);
    const address = userId === null ? null : await this.addresses.shippingAddress(em, { id: userId }, d.address);
    if (!address) throw CartErrors.unknownAddress(d.address);
    return { addressId: address.id, country: address.country, region: address.region };
  }

  /**
   * A new guest cart and its token (32 random bytes, base64url), shown once: only its SHA-256 is
   * stored.
   */
  async createGuest(em: EntityManager, clientAddress: string): Promise<{ token: string; cart: CartView }> {
    const wait = await this.guestStarts.blockedFor(clientAddress);
    if (wait > 0) throw CartErrors.guestThrottled(wait);
    await this.guestStarts.fail(clientAddress);
    const token = randomBytes(32).toString('base64url');
    const cartId = await this.carts.createGuest(em, cartTokenHash(token));
    return { token, cart: await this.view(em, { cartId }) };
  }

  /**
   * At login: the guest cart a token names joins the user's cart, in one transaction that locks
   * both carts in id order (two logins with one token, or a login racing the guest's own changes,
   * never deadlock and merge once). A variant in both: quantities add, up to the line limit and the
   * stock (never below what the user had); lines past MAX_CART_LINES are left out; the user's
   * coupon wins, else the guest's. The guest cart is then deleted, and its token with it. An
   * unknown token does nothing.
   */
  async mergeGuestCart(em: EntityManager, userId: number, token: string): Promise<void> {
    const guest = await this.guestByToken(em, token);
    if (!guest) return;
    await em.transactional(async (tx) => {
      const userCartId = await this.carts.cartId(tx, { userId });
      const locked = await this.carts.lockCarts(tx, [userCartId, guest.cartId]);
      const from = locked.find((c) => c.id === guest.cartId);
      const into = locked.find((c) => c.id === userCartId);
      if (!from || !into || from.userId !== null) return; // merged (and deleted) by a concurrent login
      const [theirs, mine] = [await this.carts.items(tx, guest.cartId), await this.carts.items(tx, userCartId)];
      const sale = await this.catalog.saleLines(tx, theirs.map((i) => i.variantId));
      const had = new Map(mine.map((i) => [i.variantId, i.quantity]));
      let lines = mine.length;
      for (const item of theirs) {
        const existing = had.get(item.variantId) ?? 0;
        if (existing === 0 && lines >= MAX_CART_LINES) continue;
        const line = sale.get(item.variantId);
        const stock = line?.sellable ? line.stock : 0;
        const quantity = Math.max(existing, Math.min(existing + item.quantity, MAX_LINE_QUANTITY, stock));
        if (quantity === existing) continue;
        if (existing === 0) lines += 1;
        await this.carts.putLine(tx, userCartId, item.variantId, quantity, item.addedUnitPrice);
      }
      if (!into.couponCode && from.couponCode) await this.carts.setCoupon(tx, userCartId, from.couponCode);
      await this.carts.deleteCart(tx, guest.cartId);
    });
  }

  /** The guest a cart token stands for, or null (malformed, never issued, or its cart expired). */
  async guestByToken(em: EntityManager, token: string): Promise<Guest | null> {
    if (!CART_TOKEN.test(token)) return null;
    const tokenHash = cartTokenHash(token);
    const cartId = await this.carts.guestCartId(em, tokenHash);
    return cartId === null ? null : { cartId, tokenHash };
  }

  /**
   * Checkout's price for (locked) lines: the coupon already applied (`applied`), shipping by the
   * method asked (or the cheapest serving the address: 422 NO_SHIPPING_METHOD if none; a method
   * that does not serve it: 422 UNKNOWN_SHIPPING_METHOD) and tax at the address; a total past
   * MAX_ORDER_TOTAL is 422 CART_TOTAL_LIMIT.
   */
  async quote(em: EntityManager, lines: readonly CheckoutLine[], applied: AppliedDiscount | null, destination: PricingDestination): Promise<Quote> {
    const pricing = lines.map((l) => pricingLine(l, l.quantity));
    const quote = await this.pricing.quote(em, pricing, applied, destination);
    // Shipping and tax can take a cart at the limit past what an order holds.
    if (quote.total > MAX_ORDER_TOTAL) throw CartErrors.totalLimit(fromMinor(MAX_ORDER_TOTAL));
    return quote;
  }

  /** What the cart's code is worth for these lines now, or why it is worth nothing (its problem code). */
  private async couponValue(em: EntityManager, userId: number | null, code: string | null, lines: readonly PricingLine[]): Promise<{ discount: BasketDiscount | null; couponProblem: string | null }> {
    if (!code) return { discount: null, couponProblem: null };
    try {
      const applied = await this.discounts.evaluate(em, code, { userId, lines: [...lines] });
      return { discount: applied, couponProblem: null };
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return { discount: null, couponProblem: err.code };
    }
  }

  /** Applies a discount code after checking it against the cart now (422 with the reason otherwise). */
  async applyCoupon(em: EntityManager, owner: CartOwner, code: string): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lock(tx, owner);
      const lines = (await this.checkoutLines(tx, cartId)).filter((l) => l.sellable);
      const { discount } = await this.discounts.evaluate(tx, code, { userId: userOf(owner), lines: priceLines(lines).lines });
      await this.carts.setCoupon(tx, cartId, discount.code);
    });
    return this.view(em, owner);
  }

  async removeCoupon(em: EntityManager, owner: CartOwner): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lock(tx, owner);
      await this.carts.setCoupon(tx, cartId, null);
    });
    return this.view(em, owner);
  }

  /**
   * Adds units of a variant. One atomic upsert sums concurrent adds; the resulting line is then
   * checked against the stock and the line limit, and the whole change is undone if it fails.
   */
  async add(em: EntityManager, owner: CartOwner, variantId: number, quantity: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lock(tx, owner);
      const variant = await this.catalog.saleLine(tx, variantId);
      if (!variant) throw CartErrors.unknownVariant(variantId);
      if (!variant.sellable) throw CartErrors.variantUnavailable(variantId);
      const total = await this.carts.addUnits(tx, cartId, variantId, quantity, variant.price, MAX_LINE_QUANTITY);
      if (total === undefined) throw CartErrors.quantityLimit(MAX_LINE_QUANTITY);
      if (total > variant.stock) throw CatalogErrors.insufficientStock(variantId, variant.stock);
      await this.checkLimits(tx, cartId);
    });
    return this.view(em, owner);
  }

  /** Sets a line's quantity (0 removes it); more than the stock is refused. */
  async setQuantity(em: EntityManager, owner: CartOwner, itemId: number, quantity: number): Promise<CartView> {
    if (quantity === 0) return this.remove(em, owner, itemId);
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lock(tx, owner);
      const item = await this.carts.item(tx, cartId, itemId);
      const variant = item && (await this.catalog.saleLine(tx, item.variantId));
      if (!item || !variant) throw CartErrors.itemNotFound();
      if (!variant.sellable) throw CartErrors.variantUnavailable(item.variantId);
      if (quantity > variant.stock) throw CatalogErrors.insufficientStock(item.variantId, variant.stock);
      await this.carts.setQuantity(tx, itemId, quantity);
      await this.checkLimits(tx, cartId);
    });
    return this.view(em, owner);
  }

  /** Removes a line of the owner's cart; anyone else's line answers 404. */
  async remove(em: EntityManager, owner: CartOwner, itemId: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lock(tx, owner);
      if (!(await this.carts.removeItem(tx, cartId, itemId))) throw CartErrors.itemNotFound();
    });
    return this.view(em, owner);
  }

  /**
   * Checkout's hold on the cart: locks the user's cart (a double submit waits, then finds it empty)
   * and answers its id and applied code.
   */
  lockCart(em: EntityManager, owner: CartOwner): Promise<{ id: number; couponCode: string | null }> {
    return this.lock(em, owner);
  }

  /** The cart's code and last change (a guest's cart that went meanwhile: 401 INVALID_CART_TOKEN). */
  private async header(em: EntityManager, cartId: number): Promise<{ couponCode: string | null; updatedAt: Date }> {
    const header = await this.carts.header(em, cartId);
    if (!header) throw CartErrors.invalidCartToken();
    return header;
  }

  /** Locks the owner's cart (a guest's that expired meanwhile: 401 INVALID_CART_TOKEN). */
  private async lock(em: EntityManager, owner: CartOwner): Promise<{ id: number; couponCode: string | null }> {
    const cart = await this.carts.lock(em, owner);
    if (!cart) throw CartErrors.invalidCartToken();
    return cart;
  }

  /**
   * The lines of a (locked) cart with what checkout needs, in variant order. A cart no order can
   * hold (its sellable lines add up past MAX_ORDER_TOTAL) is refused: 422 CART_TOTAL_LIMIT.
   */
  async checkoutLines(em: EntityManager, cartId: number): Promise<CheckoutLine[]> {
    const { lines } = await this.linesOf(em, cartId);
    assertOrderable(lines);
    return lines;
  }

  private async linesOf(em: EntityManager, cartId: number): Promise<{ items: CartItemRow[]; lines: CheckoutLine[] }> {
    const items = await this.carts.items(em, cartId);
    const lines = (await this.saleRows(em, items)).map((r) => checkoutLine(r.item, r.line)).sort((a, b) => a.variantId - b.variantId);
    return { items, lines };
  }

  /** Each line with what the catalog sells it as now (lines whose variant is gone are left out). */
  private async saleRows(em: EntityManager, items: readonly CartItemRow[]): Promise<{ item: CartItemRow; line: SaleLine }[]> {
    const sale = await this.catalog.saleLines(em, items.map((i) => i.variantId));
    return items.flatMap((item) => {
      const line = sale.get(item.variantId);
      return line ? [{ item, line }] : [];
    });
  }

  /**
   * After a change, inside its transaction: the cart still has at most MAX_CART_LINES lines and a
   * total an order can hold, or the change is undone (422 CART_LINE_LIMIT, CART_TOTAL_LIMIT).
   */
  private async checkLimits(em: EntityManager, cartId: number): Promise<void> {
    const { items, lines } = await this.linesOf(em, cartId);
    if (items.length > MAX_CART_LINES) throw CartErrors.lineLimit(MAX_CART_LINES);
    assertOrderable(lines);
  }

  /** Empties a cart and forgets its code (after checkout). */
  empty(em: EntityManager, cartId: number): Promise<void> {
    return this.carts.empty(em, cartId);
  }

  /**
   * Deletes the carts (their lines go with them) nobody changed for `ttlDays`, in batches so no
   * statement holds many locks; returns how many. A cart being changed right now is skipped (its
   * lock is held) or no longer stale when its row is re-read, so no live cart is lost. Running it
   * again deletes nothing more: it is idempotent.
   */
  async expireAbandoned(em: EntityManager, ttlDays: number, batchSize = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.carts.deleteStale(em, ttlDays, batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }
}

function priced(item: CartItemRow, line: SaleLine): CartLine {
  const problem = !line.sellable ? 'unavailable' : line.stock < item.quantity ? 'insufficient_stock' : null;
  return {
    id: item.id,
    quantity: item.quantity,
    addedUnitPrice: item.addedUnitPrice,
    unitPrice: line.price,
    variant: { id: line.variantId, sku: line.sku, name: line.variantName, attributes: line.attributes },
    product: { id: line.productId, name: line.productName, slug: line.slug, image: line.image },
    available: line.sellable ? line.stock : 0,
    problem,
    lineTotal: line.sellable ? toMinor(line.price) * item.quantity : 0,
    discount: 0,
    taxRate: null,
    tax: null,
  };
}

function pricingLine(line: { productId: number; price: string; taxClass: TaxClass; weightGrams: number }, quantity: number): PricingLine {
  return { productId: line.productId, lineTotal: toMinor(line.price) * quantity, quantity, taxClass: line.taxClass, weightGrams: line.weightGrams };
}

/** Refuses lines whose sellable part adds up to more than an order can hold. */
function assertOrderable(lines: readonly CheckoutLine[]): void {
  if (priceLines(lines.filter((l) => l.sellable)).subtotal > MAX_ORDER_TOTAL) throw CartErrors.totalLimit(fromMinor(MAX_ORDER_TOTAL));
}

function checkoutLine(item: CartItemRow, line: SaleLine): CheckoutLine {
  return {
    id: item.id,
    quantity: item.quantity,
    variantId: line.variantId,
    productId: line.productId,
    productName: line.productName,
    variantName: line.variantName,
    sku: line.sku,
    price: line.price,
    stock: line.stock,
    sellable: line.sellable,
    taxClass: line.taxClass,
    weightGrams: line.weightGrams,
  };
}
