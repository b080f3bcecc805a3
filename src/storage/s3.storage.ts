import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { assertKey, type FileStorage, joinUrl } from './storage';

export interface S3Settings {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO, R2, a test server); AWS when absent. */
  endpoint?: string;
  /** Bucket in the path (`https://host/bucket/key`) instead of the host name: most S3-compatible servers want it. */
  forcePathStyle: boolean;
  /** Both or neither; neither: the SDK's default chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The public base of objects (a CDN or the bucket's website); by default the bucket's own URL. */
  publicUrl?: string;
}

/** Objects never change under their key: caches may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const isMissing = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey');

/** Objects in an S3 bucket (AWS or any S3-compatible server), through @aws-sdk/client-s3. */
export class S3Storage implements FileStorage {
  readonly client: S3Client;
  private readonly base: string;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
    });
    this.base =
      settings.publicUrl ??
      (settings.endpoint
        ? settings.forcePathStyle
          ? `${settings.endpoint.replace(/\/+$/, '')}/${settings.bucket}`
          : settings.endpoint.replace(/^(https?:\/\/)/, `$1${settings.bucket}.`)
        : `https://${settings.bucket}.s3.${settings.region}.amazonaws.com`);
  }

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    assertKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: bytes, ContentType: contentType, CacheControl: IMMUTABLE }));
  }

  async get(key: string): Promise<Buffer | null> {
    assertKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    // S3 answers 204 for a key with no object too.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }

  publicUrl(key: string): string {
    return joinUrl(this.base, key);
  }
}
