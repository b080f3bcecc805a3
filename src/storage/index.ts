/** File storage drivers (local disk, S3): shared infrastructure that knows nothing of what it stores. */
import { LocalStorage } from './local.storage';
import { S3Storage, type S3Settings } from './s3.storage';
import type { FileStorage } from './storage';

export type { FileStorage } from './storage';
export { LocalStorage } from './local.storage';
export { S3Storage, type S3Settings } from './s3.storage';

export type StorageSettings = { driver: 'local'; root: string; publicUrl: string } | ({ driver: 's3' } & S3Settings);

/** The driver the settings name (MEDIA_STORAGE). */
export function createStorage(settings: StorageSettings): FileStorage {
  return settings.driver === 's3' ? new S3Storage(settings) : new LocalStorage(settings.root, settings.publicUrl);
}
