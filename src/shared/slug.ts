import { randomBytes } from 'node:crypto';

/** "Café Crème 2L" → "cafe-creme-2l". */
export function slugify(text: string, maxLength = 120): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return slug || 'item';
}

/** The slug with a short random suffix, for when the plain one is taken. */
export function suffixed(slug: string, maxLength = 120): string {
  const suffix = randomBytes(4).toString('hex').slice(0, 6);
  return `${slug.slice(0, maxLength - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}
