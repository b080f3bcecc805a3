import { Check, Entity, Enum, Index, ManyToOne, type Opt, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { Product } from '../catalog/product.entity';

export const MEDIA_STATUSES = ['processing', 'ready', 'failed'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

export const MEDIA_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type MediaContentType = (typeof MEDIA_CONTENT_TYPES)[number];

/**
 * An image of a product: the original under `storageKey` (a key of the storage driver, never a
 * URL, so the public base may change), its variants once the `media.resize` job made them. Positions
 * of a product's media are 0..n-1, kept so under the product's row lock.
 */
@Entity({ tableName: 'product_media' })
// A product's media in position order (the list, the product's images); also the product foreign key.
@Index({ name: 'product_media_product_position_idx', properties: ['product', 'position', 'id'] })
@Check({ name: 'product_media_position_check', expression: 'position >= 0' })
@Check({ name: 'product_media_size_check', expression: 'width > 0 and height > 0 and size_bytes > 0' })
export class ProductMedia extends BaseEntity {
  // The media go with their product; its stored objects are removed by the `media.purge` job (see docs/media.md).
  @ManyToOne(() => Product, { ref: true, deleteRule: 'cascade', index: false })
  product: Ref<Product>;

  @Property({ type: 'string', length: 255 })
  storageKey: string;

  @Property({ type: 'string', length: 300, default: '' })
  alt: string & Opt = '';

  @Property({ type: 'integer' })
  position: number;

  @Property({ type: 'integer' })
  width: number;

  @Property({ type: 'integer' })
  height: number;

  @Enum({ items: () => [...MEDIA_CONTENT_TYPES] })
  contentType: MediaContentType;

  @Property({ type: 'integer' })
  sizeBytes: number;

  @Enum({ items: () => [...MEDIA_STATUSES], default: 'processing' })
  status: MediaStatus & Opt = 'processing';

  @Property({ type: 'string', length: 255, nullable: true })
  thumbnailKey: string | null = null;

  @Property({ type: 'string', length: 255, nullable: true })
  mediumKey: string | null = null;

  constructor(productId: number, file: { storageKey: string; width: number; height: number; contentType: MediaContentType; sizeBytes: number }, position: number) {
    super();
    this.product = ref(Product, productId);
    this.storageKey = file.storageKey;
    this.width = file.width;
    this.height = file.height;
    this.contentType = file.contentType;
    this.sizeBytes = file.sizeBytes;
    this.position = position;
  }
}
