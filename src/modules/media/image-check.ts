/**
 * What an uploaded file is, read from its bytes alone (never its name or declared type): a JPEG, PNG
 * or WebP image of bounded size, whole, and nothing else. Every refusal is a MediaErrors problem
 * naming `body.file`; nothing here stores anything.
 */
import type sharpModule from 'sharp';
import { loadSharp } from './sharp';
import type { MediaContentType } from './product-media.entity';
import { MediaErrors } from './media.errors';

export interface CheckedImage {
  contentType: MediaContentType;
  /** The file name extension the stored original gets. */
  extension: 'jpg' | 'png' | 'webp';
  width: number;
  height: number;
  sizeBytes: number;
}

const FORMATS = {
  jpeg: { contentType: 'image/jpeg', extension: 'jpg' },
  png: { contentType: 'image/png', extension: 'png' },
  webp: { contentType: 'image/webp', extension: 'webp' },
} as const;
type Format = keyof typeof FORMATS;

/**
 * Markup a browser or a server-side interpreter would act on, if the file were ever served or
 * included as something else. Long enough that compressed image data does not hold them by chance.
 */
const MARKUP = /<\s*(script|html|body|iframe|object|embed|svg\s|!doctype)|<\?php|javascript:/i;

/** The magic numbers, checked before sharp sees the bytes (sharp reads SVG, GIF, TIFF... too). */
function sniff(bytes: Buffer): Format | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

/**
 * Where the image ends, by the format's own structure: after PNG's IEND chunk, JPEG's EOI marker,
 * or the length in WebP's RIFF header. Null when the structure runs past the bytes (truncated).
 */
export function imageEnd(format: Format, bytes: Buffer): number | null {
  if (format === 'png') {
    let at = 8;
    while (at + 12 <= bytes.length) {
      const length = bytes.readUInt32BE(at);
      const type = bytes.toString('latin1', at + 4, at + 8);
      const next = at + 12 + length;
      if (next > bytes.length) return null;
      if (type === 'IEND') return next;
      at = next;
    }
    return null;
  }
  if (format === 'webp') {
    const size = bytes.readUInt32LE(4);
    const end = 8 + size + (size % 2);
    return end > bytes.length ? null : end;
  }
  // JPEG: segments with lengths up to the start of scan, then entropy-coded data (where 0xFF is
  // followed by 0x00 or a restart marker) up to the next marker; progressive files have several scans.
  let at = 2;
  while (at + 2 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) return at + 2; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) return null;
    const length = bytes.readUInt16BE(at + 2);
    at += 2 + length;
    if (at > bytes.length) return null;
    if (marker === 0xda) {
      // Skip the scan's data to the next marker that is neither stuffing nor a restart.
      while (at + 1 < bytes.length && !(bytes[at] === 0xff && bytes[at + 1] !== 0x00 && !(bytes[at + 1]! >= 0xd0 && bytes[at + 1]! <= 0xd7))) at += 1;
      if (at + 1 >= bytes.length) return null;
    }
  }
  return null;
}

/**
 * Checks an upload, cheapest first: the type from the magic numbers (415), the format's structure
 * (422 IMAGE_TRUNCATED when it runs past the bytes), sharp's header read (415 when it cannot read
 * it as the format the magic numbers say), the pixel count before anything is decoded (422
 * IMAGE_DIMENSIONS: no decompression bomb is expanded), bytes after the image's end and markup
 * anywhere in the file (422 IMAGE_POLYGLOT), and last a full decode that fails on truncated or
 * corrupt data (IMAGE_TRUNCATED).
 */
export async function checkImage(bytes: Buffer, limits: { maxBytes: number; maxPixels: number }): Promise<CheckedImage> {
  if (bytes.length > limits.maxBytes) throw MediaErrors.fileTooLarge(limits.maxBytes);
  const sniffed = sniff(bytes);
  if (!sniffed) throw MediaErrors.unsupportedType();
  const end = imageEnd(sniffed, bytes);
  if (end === null) throw MediaErrors.truncated();
  let meta: sharpModule.Metadata;
  try {
    meta = await loadSharp()(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw MediaErrors.unsupportedType();
  }
  if (meta.format !== sniffed) throw MediaErrors.unsupportedType();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1 || width * height > limits.maxPixels) throw MediaErrors.dimensions(width, height, limits.maxPixels);
  if (end < bytes.length) throw MediaErrors.polyglot(`${bytes.length - end} byte(s) after the end of the image`);
  if (MARKUP.test(bytes.toString('latin1'))) throw MediaErrors.polyglot('markup (HTML, script or PHP) inside the image');
  try {
    // A sink that decodes every pixel without holding the whole image in memory.
    await loadSharp()(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels, sequentialRead: true }).stats();
  } catch {
    throw MediaErrors.truncated();
  }
  return { ...FORMATS[sniffed], width, height, sizeBytes: bytes.length };
}
