import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { MediaErrors } from './media.errors';
import { toProductMediaDto } from './media.mapper';
import type { MediaService } from './media.service';

/** What the media operations need from the composition root. */
export interface MediaDeps {
  media: MediaService;
  pager: Pager;
}

export const mediaHandlers = {
  listProductMedia: async ({ em, user, path, query, services, selfUrl }) => {
    const listing = await services.media.list(em, user, path.id, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, listing, (m) => toProductMediaDto(m, (k) => services.media.urlOf(k))) };
  },

  uploadProductMedia: async ({ em, user, path, body, file, services }) => {
    // The validator required `file`; multer read it (bounded by MEDIA_MAX_BYTES) into memory. The
    // validator takes a text field named `file` for one too: that is no file.
    const upload = file('file');
    if (!upload) throw MediaErrors.notAFile();
    const media = await services.media.upload(em, user, path.id, {
      bytes: upload.buffer,
      alt: body.alt,
      position: body.position === undefined ? undefined : Number(body.position),
    });
    return { status: 201, body: toProductMediaDto(media, (k) => services.media.urlOf(k)) };
  },

  updateProductMedia: async ({ em, user, path, body, services }) => {
    const media = await services.media.update(em, user, path.id, path.media_id, body);
    return { status: 200, body: toProductMediaDto(media, (k) => services.media.urlOf(k)) };
  },

  deleteProductMedia: async ({ em, user, path, services }) => {
    await services.media.delete(em, user, path.id, path.media_id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<MediaDeps>>;
