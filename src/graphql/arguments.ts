import type { MutationResolvers, QueryResolvers } from '../../generated/graphql';
import { issuesAgainst } from '../http/schemas';
import { DomainError } from '../shared/errors';
import type { GraphQLContext } from './context';

/**
 * What each GraphQL field asks of its caller and its arguments, in one table: who may call it (a
 * signed-in user, checked first as REST checks credentials first) and which of the REST contract's
 * schemas its arguments must satisfy, so a value REST refuses is refused here with the same
 * VALIDATION_ERROR and field names. `guarded` runs the rule before the resolver; resolvers only map.
 */
type ArgsOf<R> = R extends (parent: never, args: infer A, ...rest: never[]) => unknown ? A : never;
type Rules<T> = { [K in keyof T]?: (args: ArgsOf<NonNullable<T[K]>>, ctx: GraphQLContext) => void };

/** Drops null and undefined members: GraphQL's "not given" is REST's absent field. */
export function given<T extends Record<string, unknown>>(input: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as never;
}

/** The contract's rules for a REST body or parameter (a JSON pointer into the contract), applied to an argument. */
function check(pointer: string, value: unknown, field: string): void {
  const issues = issuesAgainst(pointer, value, field);
  if (issues.length) throw new DomainError('invalid', 'VALIDATION_ERROR', 'The request does not match the API contract.', { errors: issues });
}

const schema = (name: string) => `/components/schemas/${name}`;
const parameter = (name: string) => `/components/parameters/${name}/schema`;
const id = (value: number, field: string) => check(parameter('Id'), value, field);
const signedIn = (ctx: GraphQLContext) => void ctx.user();
/** A signed-in caller, or a guest's cart token (checked when the guest is resolved). */
const buyer = (ctx: GraphQLContext) => {
  if (!ctx.viewer() && !ctx.hasCartToken) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'Authentication credentials were not provided.');
};
/** A signed-in user or a guest with a cart token (which the resolver checks). */
const shopper = (ctx: GraphQLContext) => void (ctx.viewer() ?? (ctx.hasCartToken ? null : ctx.user()));

/** The REST query parameters the product filter's fields are. */
const FILTER_PARAMETERS: Record<string, string> = {
  category: 'ProductCategoryFilter',
  min_price: 'MinPrice',
  max_price: 'MaxPrice',
  in_stock: 'InStock',
  brand: 'BrandFilter',
  vendor: 'VendorFilter',
  search: 'ProductSearch',
};

export const queryRules: Rules<QueryResolvers> = {
  products: (args) => {
    for (const [name, value] of Object.entries(given({ ...(args.filter ?? {}) }))) check(parameter(FILTER_PARAMETERS[name] ?? name), value, `filter.${name}`);
  },
  product: (args) => {
    if ((args.id == null) === (args.slug == null)) throw DomainError.invalid(args.id == null ? 'id' : 'slug', 'Give exactly one of id and slug.');
    if (args.id != null) id(args.id, 'id');
  },
  reviews: (args) => id(args.product, 'product'),
  me: (_args, ctx) => signedIn(ctx),
  cart: (args, ctx) => {
    shopper(ctx);
    if (args.address != null) id(args.address, 'address');
    if (args.country != null) check(schema('Country'), args.country, 'country');
    if (args.region != null) check(schema('Region'), args.region, 'region');
    if (args.shipping_method != null) id(args.shipping_method, 'shipping_method');
  },
  shippingOptions: (args, ctx) => {
    signedIn(ctx);
    id(args.address, 'address');
  },
  // `status` is the OrderStatus enum: GraphQL itself refuses any other value.
  orders: (_args, ctx) => signedIn(ctx),
  order: (args, ctx) => {
    buyer(ctx);
    id(args.id, 'id');
  },
  lookupOrder: (args) => check(schema('OrderLookup'), { order: args.order, email: args.email }, ''),
  wishlist: (_args, ctx) => signedIn(ctx),
  addresses: (_args, ctx) => signedIn(ctx),
  address: (args, ctx) => {
    signedIn(ctx);
    id(args.id, 'id');
  },
};

export const mutationRules: Rules<MutationResolvers> = {
  // Like REST's auth operations, these take no credentials (a refused token does not fail them).
  register: ({ input }) => check(schema('RegisterRequest'), { ...input }, 'input'),
  login: ({ input }) => check(schema('LoginRequest'), { ...input }, 'input'),
  refreshToken: (args) => check(schema('RefreshTokenRequest'), { refresh: args.refresh }, ''),
  logout: (args) => check(schema('RefreshTokenRequest'), { refresh: args.refresh }, ''),
  requestPasswordReset: (args) => check(schema('PasswordResetRequest'), { email: args.email }, ''),
  resetPassword: (args) => check(schema('PasswordResetConfirm'), { token: args.token, new_password: args.new_password }, ''),
  verifyEmail: (args) => check(schema('EmailVerification'), { token: args.token }, ''),
  resendVerificationEmail: (_args, ctx) => signedIn(ctx),
  // Address inputs are checked as given: an explicit null is REST's null (a `phone` may be null, a
  // `city` may not).
  createAddress: ({ input }, ctx) => {
    signedIn(ctx);
    check(schema('AddressCreate'), { ...input }, 'input');
  },
  updateAddress: (args, ctx) => {
    signedIn(ctx);
    id(args.id, 'id');
    check(schema('AddressUpdate'), { ...args.input }, 'input');
  },
  deleteAddress: (args, ctx) => {
    signedIn(ctx);
    id(args.id, 'id');
  },
  addToCart: (args, ctx) => {
    shopper(ctx);
    check(schema('CartAdd'), given({ variant: args.variant, quantity: args.quantity }), '');
  },
  updateCartItem: (args, ctx) => {
    shopper(ctx);
    id(args.item_id, 'item_id');
    check(schema('CartUpdate'), { quantity: args.quantity }, '');
  },
  removeCartItem: (args, ctx) => {
    shopper(ctx);
    id(args.item_id, 'item_id');
  },
  applyCoupon: (args, ctx) => {
    shopper(ctx);
    check(schema('CouponApply'), { code: args.code }, '');
  },
  removeCoupon: (_args, ctx) => shopper(ctx),
  placeGuestOrder: ({ input }) => {
    const { idempotency_key: key, shipping_address, ...order } = given({ ...input });
    check(schema('GuestOrderCreate'), { ...order, shipping_address: shipping_address && given({ ...shipping_address }) }, 'input');
    if (key !== undefined) check(parameter('IdempotencyKey'), key, 'input.idempotency_key');
  },
  placeOrder: ({ input }, ctx) => {
    signedIn(ctx);
    const { idempotency_key: key, ...order } = given({ ...input });
    check(schema('OrderCreate'), order, 'input');
    if (key !== undefined) check(parameter('IdempotencyKey'), key, 'input.idempotency_key');
  },
  initiatePayment: ({ input }, ctx) => {
    buyer(ctx);
    const { idempotency_key: key, ...payment } = given({ ...input });
    check(schema('PaymentInitiate'), payment, 'input');
    if (key !== undefined) check(parameter('IdempotencyKey'), key, 'input.idempotency_key');
  },
  addToWishlist: (args, ctx) => {
    signedIn(ctx);
    check(schema('WishlistAdd'), { product: args.product }, '');
  },
  removeFromWishlist: (args, ctx) => {
    signedIn(ctx);
    id(args.item_id, 'item_id');
  },
  postReview: ({ input }, ctx) => {
    signedIn(ctx);
    check(schema('ReviewCreate'), given({ ...input }), 'input');
  },
  requestReturn: ({ input }, ctx) => {
    signedIn(ctx);
    id(input.order, 'input.order');
    check(schema('ReturnCreate'), { items: input.items.map((l) => ({ ...l })), reason: input.reason }, 'input');
  },
};

/** The resolvers of a root type, each behind its rule (if it has one). */
export function guarded<T extends object>(resolvers: T, rules: Rules<T>): T {
  const out: Record<string, unknown> = {};
  for (const [name, resolve] of Object.entries(resolvers) as [string, (parent: unknown, args: never, ctx: GraphQLContext, info: unknown) => unknown][]) {
    const rule = (rules as Record<string, ((args: never, ctx: GraphQLContext) => void) | undefined>)[name];
    out[name] = rule
      ? (parent: unknown, args: never, ctx: GraphQLContext, info: unknown) => {
          rule(args, ctx);
          return resolve(parent, args, ctx, info);
        }
      : resolve;
  }
  return out as T;
}
