import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertKey, type FileStorage, joinUrl } from './storage';

/**
 * Files under a directory (MEDIA_ROOT): served by the app under `/media/`, or by nginx from the
 * same volume. Writes go to a temporary name first and are renamed into place, so a reader never
 * sees half a file.
 */
export class LocalStorage implements FileStorage {
  readonly root: string;

  constructor(
    root: string,
    /** The public base of the files (`https://shop.example.com/media`). */
    private readonly publicBase: string,
  ) {
    this.root = resolve(root);
  }

  async put(key: string, bytes: Buffer, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, bytes, { flag: 'wx' });
      await rename(temporary, path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  publicUrl(key: string): string {
    return joinUrl(this.publicBase, key);
  }

  private pathOf(key: string): string {
    assertKey(key);
    return join(this.root, ...key.split('/'));
  }
}
