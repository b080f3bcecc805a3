/** File storage drivers (local disk, S3): shared infrastructure that knows nothing of what it stores. */
import { LocalStorage } from './local.storage';
import type { S3Settings } from './s3.storage';
import type { FileStorage } from './storage';

export type { FileStorage } from './storage';
export { LocalStorage } from './local.storage';
export type { S3Settings } from './s3.storage';

export type StorageSettings = { driver: 'local'; root: string; publicUrl: string } | ({ driver: 's3' } & S3Settings);

/**
 * The driver the settings name (MEDIA_STORAGE). The S3 driver is loaded only when it is the one
 * named: the AWS SDK is ~10 MB of a process's memory that local storage never uses.
 */
export function createStorage(settings: StorageSettings): FileStorage {
  if (settings.driver !== 's3') return new LocalStorage(settings.root, settings.publicUrl);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { S3Storage } = require('./s3.storage') as typeof import('./s3.storage');
  return new S3Storage(settings);
}
