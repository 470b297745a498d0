import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SummaryPart, SummaryPartStore } from '../ports/summary-part-store.ts';
import { stateKeyPrefix, summaryPartKey } from './schema.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface S3SummaryPartStoreOptions {
  readonly bucket: string;
  /** Key prefix (the state store's). Default `state/`. */
  readonly prefix?: string;
  readonly client?: S3Client;
}

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/**
 * Summary parts in the state bucket: one gzip'd JSON object per batch of shards, overwritten at every run (a
 * part carries its run's id, so a stale one is told from this run's). One PUT per worker and one GET per
 * batch in the run's last step.
 */
export class S3SummaryPartStore implements SummaryPartStore {
  private sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
  private client: S3Client | undefined;
  private readonly prefix: string;

  constructor(private readonly options: S3SummaryPartStoreOptions) {
    this.prefix = options.prefix ?? stateKeyPrefix;
  }

  async savePart(part: SummaryPart): Promise<void> {
    const [firstShard] = part.shards;
    if (firstShard === undefined) throw new Error('a summary part names at least one shard');
    const { sdk, client } = await this.connection();
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: summaryPartKey(this.prefix, firstShard),
        Body: await gzipAsync(Buffer.from(JSON.stringify(part), 'utf8'), { level: 1 }),
        ContentType: 'application/gzip',
      }),
    );
  }

  async loadPart(firstShard: string): Promise<SummaryPart | undefined> {
    const { sdk, client } = await this.connection();
    try {
      const object = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.options.bucket,
          Key: summaryPartKey(this.prefix, firstShard),
        }),
      );
      const body = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      return JSON.parse((await gunzipAsync(body)).toString('utf8')) as SummaryPart;
    } catch (error) {
      if (statusOf(error) === 404 || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private async connection() {
    this.sdk ??= import('@aws-sdk/client-s3');
    const sdk = await this.sdk;
    this.client ??= this.options.client ?? new sdk.S3Client({});
    return { sdk, client: this.client };
  }
}
