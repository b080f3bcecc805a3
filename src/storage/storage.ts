/**
 * Where uploaded files live: a small driver interface, so the code that stores files (product media)
 * knows nothing of disks or buckets, and the drivers know nothing of products. Keys are relative
 * paths (`products/7/Xb3kq9TfR2mW8pLz.jpg`) chosen by the caller; an object under a key never changes,
 * so it may be cached forever.
 */
export interface FileStorage {
  /** Stores (or replaces) the bytes under `key`. */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The bytes under `key`, or null when there are none. */
  get(key: string): Promise<Buffer | null>;
  /** Removes the object under `key`; a key with no object is not an error. */
  delete(key: string): Promise<void>;
  /** The absolute URL the public reads the object at. */
  publicUrl(key: string): string;
}

/** Keys are plain relative paths: lower-case letters, digits, `-`, `_`, `.` and `/`, no `..`, no leading `/`. */
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9_./-]{0,254}$/;

/** Refuses a key that could escape the storage root or read as something else (a bug, never user input). */
export function assertKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`Invalid storage key: ${JSON.stringify(key)}`);
  }
}

/** `base` + `/` + the key, each path segment URL-encoded. */
export function joinUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
