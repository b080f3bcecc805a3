import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import type { CatalogExportService } from './catalog-export';
import type { CatalogImportService } from './catalog-import.service';
import { productFilter, toCatalogImportDto, toCategoryDto, toImportIssueDto, toProductDto, toProductSummaryDto, toVariantDto } from './catalog.mapper';
import type { CategoriesService } from './categories.service';
import type { DiscoveryService } from './discovery.service';
import type { ProductsService } from './products.service';

/** What the catalog's operations need from the composition root. */
export interface CatalogDeps {
  categories: CategoriesService;
  discovery: DiscoveryService;
  products: ProductsService;
  catalogImports: CatalogImportService;
  catalogExports: CatalogExportService;
  pager: Pager;
  currency: string;
}

export const catalogHandlers = {
  listCategories: async ({ em, user, query, services, selfUrl }) => {
    const categories = await services.categories.list(em, user, query, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, categories, toCategoryDto) };
  },

  getCategoryTree: async ({ em, services }) => ({ status: 200, body: await services.categories.tree(em) }),

  getCategory: async ({ em, user, path, services }) => ({ status: 200, body: toCategoryDto(await services.categories.get(em, user, path.id)) }),

  createCategory: async ({ em, body, services, link }) => {
    const category = await services.categories.create(em, body);
    return { status: 201, body: toCategoryDto(category), headers: { Location: link('getCategory', { id: category.id }) } };
  },

  updateCategory: async ({ em, path, body, services }) => ({ status: 200, body: toCategoryDto(await services.categories.update(em, path.id, body)) }),

  deleteCategory: async ({ em, path, services }) => {
    await services.categories.delete(em, path.id);
    return { status: 204 };
  },

  listProducts: async ({ em, user, query, services, selfUrl }) => {
    const input = { ...productFilter(query), status: query.status, ordering: query.ordering };
    const products = await services.discovery.discover(em, user, input, services.pager.request(query), query.count);
    const body = {
      ...services.pager.envelope(selfUrl, products, (r) => toProductSummaryDto(r, services.currency)),
      ...(products.count === undefined ? {} : { count: products.count, count_is_estimate: products.countIsEstimate }),
    };
    return { status: 200, body };
  },

  getProductFacets: async ({ em, query, services }) => ({ status: 200, body: await services.discovery.facets(em, productFilter(query)) }),

  getProduct: async ({ em, user, path, services }) => ({ status: 200, body: toProductDto(await services.discovery.get(em, user, path.id), services.currency) }),

  createProduct: async ({ em, user, body, services, link }) => {
    const created = await services.products.create(em, user, body);
    return { status: 201, body: toProductDto(created, services.currency), headers: { Location: link('getProduct', { id: created.id }) } };
  },

  updateProduct: async ({ em, user, path, body, services }) => ({
    status: 200,
    body: toProductDto(await services.products.update(em, user, path.id, body), services.currency),
  }),

  deleteProduct: async ({ em, user, path, services }) => {
    await services.products.delete(em, user, path.id);
    return { status: 204 };
  },

  exportProducts: async ({ em, user, query, services }) => {
    const file = await services.catalogExports.export(em, user, query.format ?? 'csv', productFilter(query));
    return { status: 200, stream: file.stream, headers: { 'Content-Type': file.contentType, 'Content-Disposition': `attachment; filename="${file.filename}"` } };
  },

  importProducts: async ({ em, user, rawBody, contentType, services, link }) => {
    const format = contentType === 'application/x-ndjson' ? 'jsonl' : 'csv';
    const { import: created, issues } = await services.catalogImports.upload(em, user, format, rawBody ?? Buffer.alloc(0));
    return { status: 202, body: toCatalogImportDto(created, issues), headers: { Location: link('getProductImport', { id: created.id }) } };
  },

  getProductImport: async ({ em, user, path, services }) => {
    const view = await services.catalogImports.get(em, user, path.id);
    return { status: 200, body: toCatalogImportDto(view.import, view.issues) };
  },

  listProductImportErrors: async ({ em, user, path, query, services, selfUrl }) => {
    const issues = await services.catalogImports.listIssues(em, user, path.id, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, issues, toImportIssueDto) };
  },

  listVariants: async ({ em, user, query, services, selfUrl }) => {
    const variants = await services.products.listVariants(em, user, { product: query.product, inStock: query.in_stock }, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, variants, (v) => toVariantDto(v, services.currency)) };
  },

  getVariant: async ({ em, user, path, services }) => ({ status: 200, body: toVariantDto(await services.products.getVariant(em, user, path.id), services.currency) }),

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
} satisfies Partial<HandlerMap<CatalogDeps>>;
