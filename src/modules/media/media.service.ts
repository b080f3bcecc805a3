import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadSharp } from './sharp';
import { refuseViolations } from '../../db/errors';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import type { FileStorage } from '../../storage';
import { checkImage } from './image-check';
import { MediaErrors } from './media.errors';
import { MEDIA_LIST_SCOPE, type MediaRepository } from './media.repository';
import { ProductMedia } from './product-media.entity';

/** What the media context needs from the catalog (the composition root passes ProductsService). */
export interface MediaCatalog {
  /** Throws the catalog's refusal (404, or 403 NOT_OWNER on a listed product) unless the actor may change the product. */
  assertManageable(em: EntityManager, actor: Principal, productId: number): Promise<void>;
  /** Whether the viewer sees the product: it is listed, or the viewer may manage it. */
  isVisible(em: EntityManager, viewer: Principal | null, productId: number): Promise<boolean>;
  /** Sets the product's `images` (the catalog owns the column). */
  replaceImages(em: EntityManager, productId: number, urls: readonly string[]): Promise<void>;
  /** Whether a product row exists (active or not). */
  exists(em: EntityManager, productId: number): Promise<boolean>;
}

/** Enqueues the media's jobs inside the caller's transaction. */
export interface MediaJobs {
  resize(em: EntityManager, mediaId: number): Promise<void>;
  /** The `media.purge` job: removes a deleted product's stored objects once the deletion committed. */
  purge(em: EntityManager, productId: number, keys: string[]): Promise<void>;
}

export interface MediaSettings {
  maxBytes: number;
  maxPixels: number;
  maxPerProduct: number;
}

export interface MediaUpload {
  bytes: Buffer;
  alt?: string;
  position?: number;
}

export interface MediaPatch {
  alt?: string;
  position?: number;
}

/** The variants the resize job makes: WebP copies fitting inside a square of `size` pixels. */
export const VARIANTS = { thumbnail: { suffix: 'thumb', size: 200 }, medium: { suffix: 'medium', size: 800 } } as const;

/** The key of a variant of the original under `key`: `products/7/abc.jpg` → `products/7/abc-thumb.webp`. */
export function variantKey(key: string, variant: keyof typeof VARIANTS): string {
  return `${key.replace(/\.[a-z]+$/, '')}-${VARIANTS[variant].suffix}.webp`;
}

/** What a run of the resize job did. */
export type ResizeOutcome = 'ready' | 'failed' | 'gone';

/** What a run of the purge job did: removed the objects, or kept them (the product still exists). */
export type PurgeOutcome = 'purged' | 'kept';

/**
 * Product media: uploads checked by content and stored through the storage driver, their order and
 * alternative text, their deletion with the stored objects, and the resized variants the
 * `media.resize` job makes. After every change the product's `images` are rewritten (through the
 * catalog) from the ready media in position order, in the same transaction. Objects are written
 * before the transaction that records them and deleted after the one that forgets them, so a
 * committed row always has its original.
 */
export class MediaService {
  constructor(
    private readonly media: MediaRepository,
    private readonly storage: FileStorage,
    private readonly catalog: MediaCatalog,
    private readonly jobs: MediaJobs,
    private readonly settings: MediaSettings,
  ) {}

  /** The public URL of a stored key. */
  urlOf(key: string): string {
    return this.storage.publicUrl(key);
  }

  /** A product's media by position, for whoever may see the product. */
  async list(em: EntityManager, viewer: Principal | null, productId: number, pick: PagePicker): Promise<Listing<ProductMedia>> {
    // A bad cursor or page is a 400 before anything is looked up, like every other list.
    const picked = pick([MEDIA_LIST_SCOPE]);
    if (!(await this.catalog.isVisible(em, viewer, productId))) throw MediaErrors.productNotFound();
    return this.media.list(em, productId, () => picked);
  }

  /**
   * Stores an uploaded image for the product and records it `processing`, with its resize job, in
   * one transaction. Every check (the caller's right, the file's type, size, pixels and integrity,
   * the product's room) runs before anything is stored; a refusal after the object was written
   * (a race for the last place) deletes it again.
   */
  async upload(em: EntityManager, actor: Principal, productId: number, upload: MediaUpload): Promise<ProductMedia> {
    await this.catalog.assertManageable(em, actor, productId);
    const image = await checkImage(upload.bytes, this.settings);
    this.assertRoom(await this.media.count(em, productId), upload.position);
    const key = `products/${productId}/${randomBytes(12).toString('base64url')}.${image.extension}`;
    await this.storage.put(key, upload.bytes, image.contentType);
    try {
      return await refuseViolations(
        () =>
          em.transactional(async (tx) => {
            await this.media.lockProductMedia(tx, productId);
            const others = await this.media.ofProduct(tx, productId);
            this.assertRoom(others.length, upload.position);
            const media = new ProductMedia(productId, { storageKey: key, width: image.width, height: image.height, contentType: image.contentType, sizeBytes: image.sizeBytes }, others.length);
            if (upload.alt !== undefined) media.alt = upload.alt;
            renumber(others, media, upload.position ?? others.length);
            tx.persist(media);
            await tx.flush();
            await this.jobs.resize(tx, media.id);
            return media;
          }),
        // The product was deleted meanwhile.
        { foreignKey: () => MediaErrors.productNotFound() },
      );
    } catch (err) {
      // The refusal is the answer; an object that could not be removed is only an orphan.
      await this.storage.delete(key).catch(() => undefined);
      throw err;
    }
  }

  /** Changes the alternative text, or moves the media (the others are renumbered 0..n-1). */
  async update(em: EntityManager, actor: Principal, productId: number, mediaId: number, patch: MediaPatch): Promise<ProductMedia> {
    await this.catalog.assertManageable(em, actor, productId);
    return em.transactional(async (tx) => {
      await this.media.lockProductMedia(tx, productId);
      const all = await this.media.ofProduct(tx, productId);
      const media = all.find((m) => m.id === mediaId);
      if (!media) throw MediaErrors.mediaNotFound();
      if (patch.alt !== undefined) media.alt = patch.alt;
      if (patch.position !== undefined) {
        if (patch.position > all.length - 1) throw MediaErrors.positionPastEnd('body.position', all.length - 1);
        renumber(all.filter((m) => m !== media), media, patch.position);
      }
      await tx.flush();
      if (patch.position !== undefined) await this.syncImages(tx, productId);
      return media;
    });
  }

  /** Deletes the media, renumbers the others, and then removes its stored objects. */
  async delete(em: EntityManager, actor: Principal, productId: number, mediaId: number): Promise<void> {
    await this.catalog.assertManageable(em, actor, productId);
    const key = await em.transactional(async (tx) => {
      await this.media.lockProductMedia(tx, productId);
      const all = await this.media.ofProduct(tx, productId);
      const media = all.find((m) => m.id === mediaId);
      if (!media) throw MediaErrors.mediaNotFound();
      tx.remove(media);
      all.filter((m) => m !== media).forEach((m, i) => (m.position = i));
      await tx.flush();
      await this.syncImages(tx, productId);
      return media.storageKey;
    });
    await this.deleteObjects(key);
  }

  /**
   * Makes the media's variants, stores them and marks it ready (the `media.resize` job). Idempotent:
   * a second run writes the same keys again. A media deleted before or during the run: nothing is
   * left (variants written meanwhile are removed). An original sharp cannot read: `failed`.
   */
  async resize(em: EntityManager, mediaId: number): Promise<ResizeOutcome> {
    const found = await this.media.find(em, mediaId);
    if (!found) return 'gone';
    const productId = found.product.id;
    const original = await this.storage.get(found.storageKey);
    let variants: [string, Buffer][] | null = null;
    if (original) {
      try {
        variants = await Promise.all(
          (Object.keys(VARIANTS) as (keyof typeof VARIANTS)[]).map(async (name): Promise<[string, Buffer]> => [
            variantKey(found.storageKey, name),
            await loadSharp()(original, { limitInputPixels: this.settings.maxPixels })
              .rotate()
              .resize(VARIANTS[name].size, VARIANTS[name].size, { fit: 'inside', withoutEnlargement: true })
              .webp({ quality: 82 })
              .toBuffer(),
          ]),
        );
      } catch {
        variants = null;
      }
    }
    if (variants) for (const [key, bytes] of variants) await this.storage.put(key, bytes, 'image/webp');
    const outcome = await em.transactional(async (tx): Promise<ResizeOutcome> => {
      await this.media.lockProductMedia(tx, productId);
      const media = await this.media.find(tx, mediaId);
      if (!media) return 'gone';
      if (!variants) {
        media.status = 'failed';
      } else {
        media.thumbnailKey = variantKey(media.storageKey, 'thumbnail');
        media.mediumKey = variantKey(media.storageKey, 'medium');
        media.status = 'ready';
      }
      await tx.flush();
      await this.syncImages(tx, productId);
      return media.status === 'ready' ? 'ready' : 'failed';
    });
    // Deleted while the variants were made: its delete may have run before they were written.
    if (outcome === 'gone') await this.deleteObjects(found.storageKey);
    return outcome;
  }

  /**
   * The catalog is about to delete the product (in `em`'s transaction): its media rows go with the
   * row, so their objects (originals and variants, made or to come) are captured now and handed to
   * a `media.purge` job, enqueued in the same transaction (so it exists only if the delete commits).
   * Nothing is enqueued for a product without media. Under the product's media lock: an upload
   * either committed before (its key is captured) or waits and then finds the product gone (and
   * removes its own object); a resize that finds its media gone removes what it wrote.
   */
  async productDeleting(em: EntityManager, productId: number): Promise<void> {
    await this.media.lockProductMedia(em, productId);
    const originals = await this.media.storageKeys(em, productId);
    if (originals.length) await this.jobs.purge(em, productId, originals.flatMap(objectsOf));
  }

  /**
   * Removes a deleted product's stored objects (the `media.purge` job). Only once the product is
   * gone: one that was deactivated instead (orders refer to it) keeps its media and files. Only
   * keys under the product's own folder. Idempotent: a missing object is not an error.
   */
  async purge(em: EntityManager, productId: number, keys: readonly string[]): Promise<PurgeOutcome> {
    if (await this.catalog.exists(em, productId)) return 'kept';
    const folder = `products/${productId}/`;
    // Sequential: a handful of keys (3 per media), and no burst of requests at S3.
    for (const key of keys) if (key.startsWith(folder)) await this.storage.delete(key);
    return 'purged';
  }

  /** Whether the product has media (its `images` then come from them alone). */
  async hasMedia(em: EntityManager, productId: number): Promise<boolean> {
    return (await this.media.count(em, productId)) > 0;
  }

  /** The product's images: its ready media's URLs by position. */
  private async syncImages(em: EntityManager, productId: number): Promise<void> {
    const keys = await this.media.readyKeys(em, productId);
    await this.catalog.replaceImages(em, productId, keys.map((k) => this.storage.publicUrl(k)));
  }

  private async deleteObjects(key: string): Promise<void> {
    await Promise.all(objectsOf(key).map((k) => this.storage.delete(k)));
  }

  private assertRoom(count: number, position: number | undefined): void {
    if (count >= this.settings.maxPerProduct) throw MediaErrors.limitReached(this.settings.maxPerProduct);
    if (position !== undefined && position > count) throw MediaErrors.positionPastEnd('body.position', count);
  }
}

/** Every object stored for an original under `key`: the original and its variants. */
function objectsOf(key: string): string[] {
  return [key, variantKey(key, 'thumbnail'), variantKey(key, 'medium')];
}

/** Puts `media` at `position` among `others` (in their order) and numbers them all 0..n-1. */
function renumber(others: ProductMedia[], media: ProductMedia, position: number): void {
  const order = [...others];
  order.splice(position, 0, media);
  order.forEach((m, i) => (m.position = i));
}
