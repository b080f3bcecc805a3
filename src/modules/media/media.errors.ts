import { DomainError } from '../../shared/errors';

const file = (message: string) => ({ errors: [{ field: 'body.file', message }] });

/** Why an upload or a change of a product's media is refused; every code is documented in the contract. */
export const MediaErrors = {
  mediaNotFound: () => DomainError.notFound('The media'),
  productNotFound: () => DomainError.notFound('The product'),
  limitReached: (max: number) => new DomainError('conflict', 'MEDIA_LIMIT_REACHED', `A product has at most ${max} media: delete one first.`),
  fileTooLarge: (maxBytes: number) =>
    new DomainError('payload_too_large', 'FILE_TOO_LARGE', `The file is larger than ${maxBytes} bytes.`, file(`is larger than ${maxBytes} bytes`)),
  unsupportedType: () =>
    new DomainError('unsupported_media_type', 'UNSUPPORTED_IMAGE_TYPE', 'The file is not a JPEG, PNG or WebP image.', file('is not a JPEG, PNG or WebP image')),
  dimensions: (width: number, height: number, maxPixels: number) =>
    new DomainError(
      'unprocessable',
      'IMAGE_DIMENSIONS',
      width < 1 || height < 1
        ? `The image is ${width}x${height} pixels: it has none.`
        : `The image has ${width * height} pixels (${width}x${height}); at most ${maxPixels} are accepted.`,
      file(width < 1 || height < 1 ? 'has no pixels' : `has more than ${maxPixels} pixels`),
    ),
  notAFile: () => DomainError.invalid('body.file', 'must be a file (a form part with a file name), not a text field'),
  truncated: () => new DomainError('unprocessable', 'IMAGE_TRUNCATED', 'The image data is truncated or corrupt.', file('does not decode whole')),
  polyglot: (what: string) => new DomainError('unprocessable', 'IMAGE_POLYGLOT', `The file holds data besides the image: ${what}.`, file('holds data besides the image')),
  positionPastEnd: (field: string, max: number) =>
    DomainError.invalid(field, max === 0 ? 'must be 0: the product has no other media' : `must be at most ${max} (the positions run from 0 to ${max})`),
};
