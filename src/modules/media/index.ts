/**
 * Media: the images of products, uploaded by their vendor, stored through a storage driver
 * (src/storage/), resized by the `media.resize` job; a deleted product's files are removed by the
 * `media.purge` job. Owns `product_media`; writes the catalog's `images` of a product only through
 * the catalog (`MediaCatalog`).
 */
import { ProductMedia } from './product-media.entity';

export { mediaHandlers, type MediaDeps } from './media.handlers';
export { MediaRepository } from './media.repository';
export { MediaService, type MediaCatalog, type MediaJobs, type MediaSettings, type PurgeOutcome, type ResizeOutcome, VARIANTS, variantKey } from './media.service';

/** The entities this context maps. */
export const mediaEntities = [ProductMedia];
