import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { PageInfo, ProductOrdering as GqlOrdering, Resolvers } from '../../generated/graphql';
import type { Listing } from '../shared/paging';
import { DomainError } from '../shared/errors';
import { type RegisterInput, toUserDto } from '../modules/accounts';
import { type AddressInput, type AddressPatch, toAddressDto } from '../modules/addresses';
import { toCartDto, toShippingOptionDto } from '../modules/cart';
import { CatalogErrors, productFilter, type ProductOrdering, toProductDto, toProductSummaryDto } from '../modules/catalog';
import { toOrderDto, toOrderSummaryDto, toPaymentDto, toReturnDto } from '../modules/checkout';
import { toReviewDto } from '../modules/reviews';
import { toWishlistItemDto } from '../modules/wishlist';
import { given, guarded, mutationRules, queryRules } from './arguments';
import type { GraphQLContext } from './context';
import type { ProductParent } from './parents';
import { selectsOnly } from './selection';

/** The REST orderings, by GraphQL enum value. */
const ORDERINGS: Record<GqlOrdering, ProductOrdering> = {
  PRICE: 'price',
  PRICE_DESC: '-price',
  CREATED_AT: 'created_at',
  CREATED_AT_DESC: '-created_at',
  NAME: 'name',
  NAME_DESC: '-name',
  RATING_DESC: '-rating',
  RELEVANCE: 'relevance',
};

/** Category fields a product's row answers without loading the category. */
const CATEGORY_ID: ReadonlySet<string> = new Set(['id']);

/** Reviews a product field may embed; more are paged with Query.reviews. */
const MAX_EMBEDDED_REVIEWS = 20;

/** An edge of a connection; its cursor (a getter on the prototype, cheaper than one per object) is signed when read. */
class Edge<T, N> {
  constructor(
    readonly node: N,
    private readonly item: T,
    private readonly cursorOf: (item: T) => string,
  ) {}

  get cursor(): string {
    return this.cursorOf(this.item);
  }
}

/**
 * A service's listing as a Relay connection: one signed cursor per edge, in the listing's scope.
 * Cursors are signed when asked for (getters the default resolvers read): a page that asks only
 * for `pageInfo { endCursor }` signs one cursor, not one per edge.
 */
function connection<T, N>(listing: Listing<T>, node: (item: T) => N, ctx: GraphQLContext) {
  const { items } = listing.slice;
  const cursorOf = (item: T) => ctx.services.pager.cursorOf(listing.scope, listing.keyOf(item));
  const edges = items.map((item) => new Edge(node(item), item, cursorOf));
  const first = items[0];
  const last = items[items.length - 1];
  const pageInfo: PageInfo = {
    hasNextPage: listing.slice.next !== null,
    hasPreviousPage: listing.slice.previous !== null,
    get startCursor() {
      return first === undefined ? null : cursorOf(first);
    },
    get endCursor() {
      return last === undefined ? null : cursorOf(last);
    },
  };
  return { edges, pageInfo };
}

/**
 * A service's failure that names a field of REST's request body (`body.card_token`) names the
 * GraphQL argument instead (`input.card_token`); anything else passes unchanged.
 */
async function namingArgument<T>(argument: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const issues = err instanceof DomainError ? err.details.errors : undefined;
    if (!(err instanceof DomainError) || !Array.isArray(issues)) throw err;
    const errors = (issues as { field: string; message: string }[]).map((i) => ({ ...i, field: i.field.replace(/^body(?=\.|$)/, argument) }));
    throw new DomainError(err.kind, err.code, err.message, { ...err.details, errors }, err.retryAfterSeconds);
  }
}

/** The product's detail, for fields a list row does not carry (one batched statement per page). */
async function detailOf(p: ProductParent, ctx: GraphQLContext) {
  const detail = await ctx.loaders.productDetail.load(p.id);
  if (!detail) throw CatalogErrors.productNotFound();
  return detail;
}

function detailField<K extends 'description' | 'sku' | 'images' | 'updated_at' | 'breadcrumbs' | 'variants'>(name: K) {
  return async (p: ProductParent, _args: unknown, ctx: GraphQLContext) => p[name] ?? (await detailOf(p, ctx))[name];
}

const attributes = (a: Record<string, string>) => Object.entries(a).map(([name, value]) => ({ name, value }));

const stringScalar = (name: string, description: string) =>
  new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: (v) => String(v),
    parseValue: (v) => {
      if (typeof v !== 'string') throw new GraphQLError(`${name} must be a string.`);
      return v;
    },
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw new GraphQLError(`${name} must be a string.`);
      return ast.value;
    },
  });

/**
 * Every resolver calls the services the REST handlers call and maps with the same mappers; who may
 * call a field and what its arguments must be is decided before it runs (./arguments.ts).
 */
export const resolvers: Resolvers = {
  Decimal: stringScalar('Decimal', 'An exact amount of money as a decimal string.'),
  DateTime: stringScalar('DateTime', 'An ISO 8601 instant in UTC.'),

  Query: guarded<NonNullable<Resolvers['Query']>>(
    {
      async products(_root, args, ctx) {
        const input = { ...productFilter(given({ ...(args.filter ?? {}) })), ordering: args.ordering ? ORDERINGS[args.ordering] : undefined };
        const products = await ctx.services.discovery.discover(ctx.em, ctx.viewer(), input, ctx.services.pager.connection(args), 'none');
        return connection(products, (r) => toProductSummaryDto(r, ctx.services.currency), ctx);
      },

      async product(_root, { id, slug }, ctx) {
        const viewer = ctx.viewer();
        try {
          const detail = id != null ? await ctx.services.discovery.get(ctx.em, viewer, id) : await ctx.services.discovery.getBySlug(ctx.em, viewer, slug!);
          const dto = toProductDto(detail, ctx.services.currency);
          ctx.loaders.productDetail.prime(dto.id, dto);
          return dto;
        } catch (err) {
          if (err instanceof DomainError && err.kind === 'not_found') return null;
          throw err;
        }
      },

      categoryTree: (_root, _args, ctx) => ctx.services.categories.tree(ctx.em),

      async reviews(_root, args, ctx) {
        const reviews = await ctx.services.reviews.list(ctx.em, { product: args.product }, ctx.services.pager.connection(args));
        return connection(reviews, toReviewDto, ctx);
      },

      me: async (_root, _args, ctx) => toUserDto(await ctx.services.accounts.get(ctx.em, ctx.user(), ctx.user().id)),

      cart: async (_root, args, ctx) =>
        toCartDto(
          await ctx.services.cart.view(ctx.em, await ctx.cartOwner(), {
            address: args.address ?? undefined,
            country: args.country ?? undefined,
            region: args.region ?? undefined,
            shippingMethod: args.shipping_method ?? undefined,
          }),
          ctx.services.currency,
        ),

      async shippingOptions(_root, args, ctx) {
        const { place, options } = await ctx.services.cart.shippingOptions(ctx.em, { userId: ctx.user().id }, { address: args.address });
        return { address: args.address, country: place.country, region: place.region, options: options.map(toShippingOptionDto) };
      },

      async orders(_root, args, ctx) {
        const { orders, units } = await ctx.services.orders.list(ctx.em, ctx.user(), { status: args.status ?? undefined }, ctx.services.pager.connection(args));
        return connection(orders, (o) => toOrderSummaryDto(o, units.get(o.id) ?? 0), ctx);
      },

      order: async (_root, args, ctx) => toOrderDto(await ctx.services.orders.get(ctx.em, await ctx.buyer(), args.id)),

      lookupOrder: async (_root, args, ctx) => toOrderDto(await ctx.services.orders.lookup(ctx.em, args.order, args.email, ctx.clientAddress)),

      async addresses(_root, args, ctx) {
        const addresses = await ctx.services.addresses.list(ctx.em, ctx.user(), ctx.services.pager.connection(args));
        return connection(addresses, toAddressDto, ctx);
      },

      address: async (_root, args, ctx) => toAddressDto(await ctx.services.addresses.get(ctx.em, ctx.user(), args.id)),

      async wishlist(_root, args, ctx) {
        const items = await ctx.services.wishlist.list(ctx.em, ctx.user(), ctx.services.pager.connection(args));
        return connection(items, (e) => toWishlistItemDto(e, ctx.services.currency), ctx);
      },
    },
    queryRules,
  ),

  Mutation: guarded<NonNullable<Resolvers['Mutation']>>(
    {
      // The input passed its rule, the contract's RegisterRequest: REST's body.
      register: async (_root, { input }, ctx) => toUserDto(await ctx.services.accounts.register(ctx.em, { ...input } as RegisterInput)),

      login: (_root, { input }, ctx) => ctx.services.auth.login(ctx.em, { ...input }, ctx.clientAddress),

      refreshToken: (_root, args, ctx) => ctx.services.auth.refresh(ctx.em, args.refresh),

      async logout(_root, args, ctx) {
        await ctx.services.auth.logout(ctx.em, args.refresh);
        return true;
      },

      async requestPasswordReset(_root, args, ctx) {
        await ctx.services.recovery.requestPasswordReset(ctx.em, args.email, ctx.clientAddress);
        return true;
      },

      async resetPassword(_root, args, ctx) {
        await ctx.services.recovery.confirmPasswordReset(ctx.em, args.token, args.new_password);
        return true;
      },

      async verifyEmail(_root, args, ctx) {
        await ctx.services.recovery.verifyEmail(ctx.em, args.token);
        return true;
      },

      async resendVerificationEmail(_root, _args, ctx) {
        await ctx.services.recovery.resendVerification(ctx.em, ctx.user(), ctx.clientAddress);
        return true;
      },

      // The inputs passed their rule, the contract's AddressCreate and AddressUpdate: REST's bodies.
      createAddress: async (_root, { input }, ctx) => toAddressDto(await ctx.services.addresses.create(ctx.em, ctx.user(), { ...input } as AddressInput)),

      updateAddress: async (_root, args, ctx) => toAddressDto(await ctx.services.addresses.update(ctx.em, ctx.user(), args.id, { ...args.input } as AddressPatch)),

      async deleteAddress(_root, args, ctx) {
        await ctx.services.addresses.delete(ctx.em, ctx.user(), args.id);
        return true;
      },

      addToCart: async (_root, args, ctx) => toCartDto(await ctx.services.cart.add(ctx.em, await ctx.cartOwner(), args.variant, args.quantity ?? 1), ctx.services.currency),

      updateCartItem: async (_root, args, ctx) => toCartDto(await ctx.services.cart.setQuantity(ctx.em, await ctx.cartOwner(), args.item_id, args.quantity), ctx.services.currency),

      removeCartItem: async (_root, args, ctx) => toCartDto(await ctx.services.cart.remove(ctx.em, await ctx.cartOwner(), args.item_id), ctx.services.currency),

      applyCoupon: async (_root, args, ctx) => toCartDto(await ctx.services.cart.applyCoupon(ctx.em, await ctx.cartOwner(), args.code), ctx.services.currency),

      removeCoupon: async (_root, _args, ctx) => toCartDto(await ctx.services.cart.removeCoupon(ctx.em, await ctx.cartOwner()), ctx.services.currency),

      async createGuestCart(_root, _args, ctx) {
        const { token, cart } = await ctx.services.cart.createGuest(ctx.em, ctx.clientAddress);
        return { cart_token: token, cart: toCartDto(cart, ctx.services.currency) };
      },

      async placeGuestOrder(_root, { input }, ctx) {
        const guest = await ctx.guest();
        const { idempotency_key: key, email, shipping_address, ...optional } = given({ ...input });
        const a = shipping_address!;
        const order = { email: email!, shipping_address: { recipient_name: a.recipient_name, line1: a.line1, city: a.city, postal_code: a.postal_code, country: a.country, ...given({ phone: a.phone, line2: a.line2, region: a.region }) }, ...optional };
        return toOrderDto(await ctx.services.orders.placeGuest(ctx.em, guest, order, ctx.clientAddress, key));
      },

      async placeOrder(_root, { input }, ctx) {
        const { idempotency_key: key, shipping_address, ...optional } = given({ ...input });
        const order = { shipping_address: shipping_address!, ...optional };
        return toOrderDto(await ctx.services.orders.place(ctx.em, ctx.user(), order, key));
      },

      async initiatePayment(_root, { input }, ctx) {
        const { idempotency_key: key, card_token, phone } = given({ ...input });
        const payment = { order: input.order, method: input.method, ...given({ card_token, phone }) };
        const { payment: made, existing } = await namingArgument('input', ctx.services.payments.initiate(ctx.em, await ctx.buyer(), payment, key));
        return { payment: toPaymentDto(made), created: !existing };
      },

      async addToWishlist(_root, args, ctx) {
        const { entry, created } = await ctx.services.wishlist.add(ctx.em, ctx.user(), args.product);
        return { item: toWishlistItemDto(entry, ctx.services.currency), created };
      },

      async removeFromWishlist(_root, args, ctx) {
        await ctx.services.wishlist.remove(ctx.em, ctx.user(), args.item_id);
        return true;
      },

      requestReturn: async (_root, { input }, ctx) =>
        toReturnDto(await ctx.services.returns.request(ctx.em, ctx.user(), input.order, { items: input.items.map((l) => ({ ...l })), reason: input.reason })),

      postReview: async (_root, { input }, ctx) => toReviewDto(await ctx.services.reviews.create(ctx.em, ctx.user(), { ...given({ ...input }), product: input.product, rating: input.rating })),
    },
    mutationRules,
  ),

  Product: {
    description: detailField('description'),
    sku: detailField('sku'),
    images: detailField('images'),
    updated_at: detailField('updated_at'),
    breadcrumbs: detailField('breadcrumbs'),
    variants: detailField('variants'),
    // Synchronous when the row holds the answer: a promise per item costs the executor more than the field.
    image(p, _args, ctx) {
      if (p.image !== undefined) return p.image;
      if (p.images) return p.images[0] ?? null;
      return detailOf(p, ctx).then((d) => d.images[0] ?? null);
    },
    category(p, _args, ctx, info) {
      // The row holds the category's id, and its foreign key (ON DELETE RESTRICT) keeps the category
      // in existence: `category { id }` needs no statement.
      if (selectsOnly(info, CATEGORY_ID)) return { id: p.category };
      return ctx.loaders.category.load(p.category).then((category) => {
        if (!category) throw CatalogErrors.categoryNotFound();
        return category;
      });
    },
    async reviews(p, args, ctx) {
      const first = args.first ?? 5;
      if (!Number.isInteger(first) || first < 1 || first > MAX_EMBEDDED_REVIEWS) {
        throw DomainError.invalid('first', `first must be between 1 and ${MAX_EMBEDDED_REVIEWS}.`);
      }
      return ctx.loaders.reviews(first).load(p.id);
    },
  },

  Order: {
    async returns(o, _args, ctx) {
      const { listing, details } = await ctx.services.returns.listOfOrder(ctx.em, ctx.user(), o.id, ctx.services.pager.connection({ first: 100 }));
      return listing.slice.items.map((r) => toReturnDto(details.get(r.id)!));
    },
  },

  Variant: { attributes: (v) => attributes(v.attributes) },
  CartVariant: { attributes: (v) => attributes(v.attributes) },
};
