/**
 * The catalog seed's public entry (`npm run seed`, the demo data, the benchmarks and tests import
 * from here): generates a realistic, reproducible catalog and bulk-loads it with COPY.
 *
 * - Same `products` and `seed` → the same rows, ids included (the catalog tables are truncated with
 *   their identities restarted, so ids start at 1). Timestamps are spread over the two years before
 *   `until`, a fixed date ({@link SEED_UNTIL}) by default so that reruns match.
 * - catalog-generator.ts: the synthetic data (pure): the category tree, brands, vendors' shop names,
 *   products and their variants with their aggregates, as COPY text; word lists in catalog-words.ts,
 *   the seeded PRNG in random.ts.
 * - catalog-loader.ts: {@link seedCatalog}: the "catalog not empty" check, the vendor accounts, then
 *   one transaction (truncate, drop secondary indexes and constraints, COPY batch by batch, rebuild,
 *   triggers, sequences), then ANALYZE, with progress reporting.
 */

export {
  CatalogGenerator,
  categoryTree,
  type CategoryRow,
  type GeneratedChunk,
  slugify,
} from './catalog-generator';
export {
  CatalogNotEmptyError,
  type CatalogSeedOptions,
  type CatalogSeedReport,
  ensureVendors,
  SEED_UNTIL,
  SEED_VENDOR_PASSWORD,
  seedCatalog,
  type SeedProgress,
} from './catalog-loader';
