import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import type { ProductMedia } from './product-media.entity';

/** A media as the contract shows it; `url` turns a stored key into its public URL. */
export function toProductMediaDto(m: ProductMedia, url: (key: string) => string): components['schemas']['ProductMedia'] {
  return {
    id: m.id,
    product: m.product.id,
    url: url(m.storageKey),
    alt: m.alt,
    position: m.position,
    width: m.width,
    height: m.height,
    content_type: m.contentType,
    size_bytes: m.sizeBytes,
    status: m.status,
    variants: {
      thumbnail: m.thumbnailKey === null ? null : url(m.thumbnailKey),
      medium: m.mediumKey === null ? null : url(m.mediumKey),
    },
    created_at: toIso(m.createdAt),
  };
}
