import type { Handlers } from '../../handlers';
import { toCategoryDto, toProductDto, toProductSummaryDto, toVariantDto } from './catalog.mapper';

export const catalogHandlers = {
  listCategories: async ({ em, user, query, services, req, url }) => {
    const scope = `categories:${query.ordering ?? 'name'}`;
    const page = services.pager.request(query, scope);
    const slice = await services.categories.list(em, user, query, page);
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, toCategoryDto) };
  },

  getCategoryTree: async ({ em, services }) => ({ status: 200, body: await services.categories.tree(em) }),

  getCategory: async ({ em, user, path, services }) => ({
    status: 200,
    body: toCategoryDto(await services.categories.get(em, user, path.id)),
  }),

  createCategory: async ({ em, body, services, link }) => {
    const category = await services.categories.create(em, body);
    return { status: 201, body: toCategoryDto(category), headers: { Location: link('getCategory', { id: category.id }) } };
  },

  updateCategory: async ({ em, path, body, services }) => ({
    status: 200,
    body: toCategoryDto(await services.categories.update(em, path.id, body)),
  }),

  deleteCategory: async ({ em, path, services }) => {
    await services.categories.delete(em, path.id);
    return { status: 204 };
  },

  listProducts: async ({ em, user, query, services, req, url }) => {
    const list = await services.products.discover(em, user, query, (scopes) => services.pager.requestAny(query, scopes), query.count);
    const body = {
      ...services.pager.envelope(url(req.originalUrl), list.scope, list.slice, (r) => toProductSummaryDto(r, services.currency)),
      ...(list.count === undefined ? {} : { count: list.count, count_is_estimate: list.countIsEstimate }),
    };
    return { status: 200, body };
  },

  getProductFacets: async ({ em, query, services }) => {
    const filters = services.products.filters(query, { kind: 'public' });
    return { status: 200, body: await services.products.facets(em, filters) };
  },

  getProduct: async ({ em, user, path, services }) => ({
    status: 200,
    body: toProductDto(await services.products.get(em, user, path.id), services.currency),
  }),

  createProduct: async ({ em, user, body, services, link }) => {
    const created = await services.products.create(em, user, body);
    return {
      status: 201,
      body: toProductDto(created, services.currency),
      headers: { Location: link('getProduct', { id: created.id }) },
    };
  },

  updateProduct: async ({ em, user, path, body, services }) => ({
    status: 200,
    body: toProductDto(await services.products.update(em, user, path.id, body), services.currency),
  }),

  deleteProduct: async ({ em, user, path, services }) => {
    await services.products.delete(em, user, path.id);
    return { status: 204 };
  },

  listVariants: async ({ em, user, query, services, req, url }) => {
    const scope = 'variants:id';
    const page = services.pager.request(query, scope);
    const slice = await services.products.listVariants(em, user, query, page);
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, (v) => toVariantDto(v, services.currency)) };
  },

  getVariant: async ({ em, user, path, services }) => ({
    status: 200,
    body: toVariantDto(await services.products.getVariant(em, user, path.id), services.currency),
  }),

  createVariant: async ({ em, user, body, services, link }) => {
    const variant = await services.products.createVariant(em, user, body);
    return { status: 201, body: toVariantDto(variant, services.currency), headers: { Location: link('getVariant', { id: variant.id }) } };
  },

  updateVariant: async ({ em, user, path, body, services }) => ({
    status: 200,
    body: toVariantDto(await services.products.updateVariant(em, user, path.id, body), services.currency),
  }),

  deleteVariant: async ({ em, user, path, services }) => {
    await services.products.deleteVariant(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<Handlers>;
