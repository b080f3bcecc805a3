import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { PageInfo, ProductOrdering as GqlOrdering, Resolvers } from '../../generated/graphql';
import type { Slice } from '../shared/paging';
import type { KeyValues } from '../shared/cursor';
import { issuesAgainst } from '../http/schemas';
import { DomainError } from '../shared/errors';
import { toIso } from '../shared/time';
import { toUserDto } from '../modules/accounts/accounts.mapper';
import { toCartDto } from '../modules/cart/cart.mapper';
import { CatalogErrors } from '../modules/catalog/catalog.errors';
import { toProductDto, toProductSummaryDto } from '../modules/catalog/catalog.mapper';
import { sortKeyOf, type ProductOrdering } from '../modules/catalog/discovery.sql';
import type { ProductListQuery } from '../modules/catalog/products.service';
import { toOrderDto, toOrderSummaryDto } from '../modules/orders/orders.mapper';
import { toReviewDto } from '../modules/reviews/reviews.mapper';
import { toWishlistItemDto } from '../modules/wishlist/wishlist.mapper';
import type { GraphQLContext } from './context';
import type { ProductParent } from './parents';

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

/** The REST query parameters the product filter's fields are, by their contract schemas. */
const FILTER_PARAMETERS = {
  category: 'ProductCategoryFilter',
  min_price: 'MinPrice',
  max_price: 'MaxPrice',
  in_stock: 'InStock',
  brand: 'BrandFilter',
  vendor: 'VendorFilter',
  search: 'ProductSearch',
} as const;

/** Reviews a product field may embed; more are paged with Query.reviews. */
const MAX_EMBEDDED_REVIEWS = 20;

/** Drops null and undefined members: GraphQL's "not given" is REST's absent field. */
function given<T extends Record<string, unknown>>(input: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as never;
}

/** The contract's rules for a REST body or parameter, applied to GraphQL arguments (400 VALIDATION_ERROR). */
function check(pointer: string, value: unknown, field: string): void {
  const issues = issuesAgainst(pointer, value, field);
  if (issues.length) {
    throw new DomainError('invalid', 'VALIDATION_ERROR', 'The request does not match the API contract.', { errors: issues });
  }
}

const checkId = (value: number, field: string) => check('/components/parameters/Id/schema', value, field);

function connection<T, N>(slice: Slice<T>, scope: string, key: (item: T) => KeyValues, node: (item: T) => N, ctx: GraphQLContext) {
  const edges = slice.items.map((item) => ({ cursor: ctx.services.pager.cursorOf(scope, key(item)), node: node(item) }));
  const pageInfo: PageInfo = {
    hasNextPage: slice.next !== null,
    hasPreviousPage: slice.previous !== null,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
  return { edges, pageInfo };
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

/** Every resolver calls the services the REST handlers call and maps with the same mappers. */
export const resolvers: Resolvers = {
  Decimal: stringScalar('Decimal', 'An exact amount of money as a decimal string.'),
  DateTime: stringScalar('DateTime', 'An ISO 8601 instant in UTC.'),

  Query: {
    async products(_root, args, ctx) {
      const filter = given({ ...(args.filter ?? {}) });
      for (const [name, value] of Object.entries(filter)) {
        check(`/components/parameters/${FILTER_PARAMETERS[name as keyof typeof FILTER_PARAMETERS]}/schema`, value, `filter.${name}`);
      }
      const query: ProductListQuery = { ...filter, ordering: args.ordering ? ORDERINGS[args.ordering] : undefined };
      const list = await ctx.services.products.discover(ctx.em, ctx.viewer(), query, (scopes) => ctx.services.pager.connection(args, scopes), 'none');
      return connection(
        list.slice,
        list.scope,
        (r) => [sortKeyOf(r, list.ordering), r.id],
        (r) => toProductSummaryDto(r, ctx.services.currency),
        ctx,
      );
    },

    async product(_root, { id, slug }, ctx) {
      if ((id == null) === (slug == null)) {
        throw DomainError.invalid(id == null ? 'id' : 'slug', 'Give exactly one of id and slug.');
      }
      const viewer = ctx.viewer();
      try {
        const detail =
          id != null
            ? (checkId(id, 'id'), await ctx.services.products.get(ctx.em, viewer, id))
            : await ctx.services.products.getBySlug(ctx.em, viewer, slug!);
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
      checkId(args.product, 'product');
      const scope = 'reviews:-created_at';
      const { page } = ctx.services.pager.connection(args, [scope]);
      const slice = await ctx.services.reviews.list(ctx.em, { product: args.product }, page);
      return connection(slice, scope, (r) => [r.createdAt.toISOString(), r.id], toReviewDto, ctx);
    },

    async me(_root, _args, ctx) {
      const user = ctx.user();
      return toUserDto(await ctx.services.accounts.get(ctx.em, user, user.id));
    },

    async cart(_root, _args, ctx) {
      return toCartDto(await ctx.services.cart.view(ctx.em, ctx.user()), ctx.services.currency);
    },

    async orders(_root, args, ctx) {
      const user = ctx.user();
      if (args.status != null) check('/components/schemas/OrderStatus', args.status, 'status');
      const scope = 'orders:-created_at';
      const { page } = ctx.services.pager.connection(args, [scope]);
      const status = (args.status ?? undefined) as Parameters<typeof ctx.services.orders.list>[2]['status'];
      const { slice, itemCounts } = await ctx.services.orders.list(ctx.em, user, { status }, page);
      return connection(slice, scope, (o) => [o.createdAt.toISOString(), o.id], (o) => toOrderSummaryDto(o, itemCounts.get(o.id) ?? 0), ctx);
    },

    async wishlist(_root, args, ctx) {
      const user = ctx.user();
      const scope = 'wishlist:-added';
      const { page } = ctx.services.pager.connection(args, [scope]);
      const slice = await ctx.services.wishlist.list(ctx.em, user, page);
      return connection(slice, scope, (r) => [toIso(r.added_at), r.item_id], (r) => toWishlistItemDto(r, ctx.services.currency), ctx);
    },
  },

  Mutation: {
    async addToCart(_root, args, ctx) {
      const user = ctx.user();
      const body = given({ variant: args.variant, quantity: args.quantity });
      check('/components/schemas/CartAdd', body, '');
      return toCartDto(await ctx.services.cart.add(ctx.em, user, body.variant!, body.quantity ?? 1), ctx.services.currency);
    },

    async updateCartItem(_root, args, ctx) {
      const user = ctx.user();
      checkId(args.item_id, 'item_id');
      check('/components/schemas/CartUpdate', { quantity: args.quantity }, '');
      return toCartDto(await ctx.services.cart.setQuantity(ctx.em, user, args.item_id, args.quantity), ctx.services.currency);
    },

    async removeCartItem(_root, args, ctx) {
      const user = ctx.user();
      checkId(args.item_id, 'item_id');
      return toCartDto(await ctx.services.cart.remove(ctx.em, user, args.item_id), ctx.services.currency);
    },

    async applyCoupon(_root, args, ctx) {
      const user = ctx.user();
      check('/components/schemas/CouponApply', { code: args.code }, '');
      return toCartDto(await ctx.services.cart.applyCoupon(ctx.em, user, args.code), ctx.services.currency);
    },

    async removeCoupon(_root, _args, ctx) {
      const user = ctx.user();
      return toCartDto(await ctx.services.cart.removeCoupon(ctx.em, user), ctx.services.currency);
    },

    async placeOrder(_root, { input }, ctx) {
      const user = ctx.user();
      const { idempotency_key: key, ...rest } = given({ ...input });
      const body = { shipping_address: rest.shipping_address!, ...(rest.coupon === undefined ? {} : { coupon: rest.coupon }) };
      check('/components/schemas/OrderCreate', body, 'input');
      if (key !== undefined) check('/components/parameters/IdempotencyKey/schema', key, 'input.idempotency_key');
      const { detail } = await ctx.services.orders.place(ctx.em, user, body, key);
      return toOrderDto(detail);
    },

    async addToWishlist(_root, args, ctx) {
      const user = ctx.user();
      check('/components/schemas/WishlistAdd', { product: args.product }, '');
      const { row, created } = await ctx.services.wishlist.add(ctx.em, user, args.product);
      return { item: toWishlistItemDto(row, ctx.services.currency), created };
    },

    async removeFromWishlist(_root, args, ctx) {
      const user = ctx.user();
      checkId(args.item_id, 'item_id');
      await ctx.services.wishlist.remove(ctx.em, user, args.item_id);
      return true;
    },

    async postReview(_root, { input }, ctx) {
      const user = ctx.user();
      const body = given({ ...input }) as Parameters<typeof ctx.services.reviews.create>[2];
      check('/components/schemas/ReviewCreate', body, 'input');
      return toReviewDto(await ctx.services.reviews.create(ctx.em, user, body));
    },
  },

  Product: {
    description: detailField('description'),
    sku: detailField('sku'),
    images: detailField('images'),
    updated_at: detailField('updated_at'),
    breadcrumbs: detailField('breadcrumbs'),
    variants: detailField('variants'),
    async image(p, _args, ctx) {
      if (p.image !== undefined) return p.image;
      return (p.images ?? (await detailOf(p, ctx)).images)[0] ?? null;
    },
    async category(p, _args, ctx) {
      const category = await ctx.loaders.category.load(p.category);
      if (!category) throw CatalogErrors.categoryNotFound();
      return category;
    },
    async reviews(p, args, ctx) {
      const first = args.first ?? 5;
      if (!Number.isInteger(first) || first < 1 || first > MAX_EMBEDDED_REVIEWS) {
        throw DomainError.invalid('first', `first must be between 1 and ${MAX_EMBEDDED_REVIEWS}.`);
      }
      return ctx.loaders.reviews(first).load(p.id);
    },
  },

  Variant: { attributes: (v) => attributes(v.attributes) },
  CartVariant: { attributes: (v) => attributes(v.attributes) },
};
