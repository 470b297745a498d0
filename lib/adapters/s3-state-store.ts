import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LearnedKind, Seasonality } from '../bands/engine.ts';
import type {
  SeriesState,
  SeriesStateStore,
  StateLayout,
  StateLayoutSnapshot,
  StateShardSnapshot,
} from '../ports/series-state-store.ts';
import type { SeriesFault } from '../ports/series-store.ts';
import type {
  SeriesSummariesSnapshot,
  SeriesSummary,
  SeriesSummaryStore,
} from '../ports/series-summary-store.ts';
import { layoutKey, shardKey, stateKeyPrefix, summariesKey } from './schema.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface S3StateStoreOptions {
  readonly bucket: string;
  /** Key prefix of every object this store writes. Default `state/`. */
  readonly prefix?: string;
  readonly client?: S3Client;
  /**
   * How many bytes of shard bodies the store keeps for revalidation at most (default 256 MiB: the states of
   * about 130,000 series): past it, a shard not kept already is downloaded whole on each run.
   */
  readonly keptBytes?: number;
}

const defaultKeptBytes = 256 * 1024 * 1024;

/** A summary as stored: a positional array (the document is read whole by every listing). */
type StoredSummary = [
  string,
  number,
  number | null,
  number,
  0 | 1,
  LearnedKind | null,
  Seasonality | null,
  SeriesFault?,
];

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/**
 * The band job's state in S3: each shard one gzip'd JSON object (a PUT costs the same whatever its size),
 * the listing summaries one more. Reads are conditional on the ETag the caller knows (304: unchanged, a
 * cheap GET); shard writes are conditional on the ETag read (If-Match), or on absence (If-None-Match: *),
 * so two overlapping runs never overwrite each other's shard: the second gets 'conflict'.
 */
export class S3StateStore implements SeriesStateStore, SeriesSummaryStore {
  /**
   * The S3 SDK, loaded on first use: the query function reads summaries only for series listings, and its
   * other routes never pay for loading it.
   */
  private sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
  private client: S3Client | undefined;
  private readonly prefix: string;
  /**
   * The last body read or written per shard, with its ETag: a warm container revalidates it (304, a cheap
   * GET) instead of downloading it again. Compressed, so it costs a fraction of the states it holds.
   */
  private readonly bodies = new Map<string, { etag: string; body: Uint8Array }>();
  /** The bytes of the bodies kept. */
  private kept = 0;

  constructor(private readonly options: S3StateStoreOptions) {
    this.prefix = options.prefix ?? stateKeyPrefix;
  }

  async loadShard(
    shard: string,
    knownVersion?: string,
  ): Promise<StateShardSnapshot | 'unchanged' | undefined> {
    const key = shardKey(this.prefix, shard);
    const kept = this.bodies.get(key);
    const found = await this.get(key, knownVersion ?? kept?.etag);
    if (found === undefined) {
      this.keep(key, undefined);
      return undefined;
    }
    if (found === 'unchanged') {
      if (knownVersion !== undefined || !kept) return 'unchanged';
      return { version: kept.etag, states: JSON.parse(await unzipped(kept.body)) as SeriesState[] };
    }
    this.keep(key, { etag: found.version, body: found.body });
    return { version: found.version, states: JSON.parse(await unzipped(found.body)) as SeriesState[] };
  }

  async saveShard(
    shard: string,
    states: readonly SeriesState[],
    expectedVersion: string | undefined,
  ): Promise<string | 'conflict'> {
    const key = shardKey(this.prefix, shard);
    const saved = await this.putUnlessChanged(key, JSON.stringify(states), expectedVersion);
    if (saved !== 'conflict') this.keep(key, saved);
    return saved === 'conflict' ? saved : saved.etag;
  }

  async loadLayout(): Promise<StateLayoutSnapshot | undefined> {
    const found = await this.get(layoutKey(this.prefix), undefined);
    if (found === undefined || found === 'unchanged') return undefined;
    return { version: found.version, layout: JSON.parse(await unzipped(found.body)) as StateLayout };
  }

  async saveLayout(layout: StateLayout, expectedVersion: string | undefined): Promise<string | 'conflict'> {
    const saved = await this.putUnlessChanged(
      layoutKey(this.prefix),
      JSON.stringify(layout),
      expectedVersion,
    );
    return saved === 'conflict' ? saved : saved.etag;
  }

  async loadSummaries(knownVersion?: string): Promise<SeriesSummariesSnapshot | 'unchanged' | undefined> {
    const found = await this.get(summariesKey(this.prefix), knownVersion);
    if (found === undefined || found === 'unchanged') return found;
    const summaries = new Map<string, SeriesSummary>();
    for (const [id, lastTimestamp, lastValue, stepMs, anomalous, kind, seasonality, fault] of JSON.parse(
      await unzipped(found.body),
    ) as StoredSummary[]) {
      summaries.set(id, {
        id,
        lastTimestamp,
        lastValue,
        stepMs,
        anomalous: anomalous === 1,
        kind,
        seasonality,
        ...(fault && { fault }),
      });
    }
    return { version: found.version, summaries };
  }

  async saveSummaries(summaries: readonly SeriesSummary[]): Promise<void> {
    const stored = summaries.map((summary): StoredSummary => {
      const row: StoredSummary = [
        summary.id,
        summary.lastTimestamp,
        summary.lastValue,
        summary.stepMs,
        summary.anomalous ? 1 : 0,
        summary.kind,
        summary.seasonality,
      ];
      // Only a series kept aside has an eighth element: the document stays as small as it was for the rest.
      if (summary.fault) row.push(summary.fault);
      return row;
    });
    // Only the band job writes it, once per run: the last run's summaries are the ones to show.
    await this.put(summariesKey(this.prefix), JSON.stringify(stored), {});
  }

  /**
   * Keeps the last body of a shard in place of the one kept, if the bodies kept stay within their budget. No
   * shard is dropped for another: the shards kept stay the same from run to run (a run reads them all in the
   * same order, and dropping the oldest would keep each one only until the next run needs it).
   */
  private keep(key: string, body: { etag: string; body: Uint8Array } | undefined): void {
    const previous = this.bodies.get(key);
    if (previous) {
      this.bodies.delete(key);
      this.kept -= previous.body.length;
    }
    if (body && this.kept + body.body.length <= (this.options.keptBytes ?? defaultKeptBytes)) {
      this.bodies.set(key, body);
      this.kept += body.body.length;
    }
  }

  private async connection() {
    this.sdk ??= import('@aws-sdk/client-s3');
    const sdk = await this.sdk;
    this.client ??= this.options.client ?? new sdk.S3Client({});
    return { sdk, client: this.client };
  }

  private async get(
    key: string,
    knownVersion: string | undefined,
  ): Promise<{ version: string; body: Uint8Array } | 'unchanged' | undefined> {
    const { sdk, client } = await this.connection();
    try {
      const object = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: key, IfNoneMatch: knownVersion }),
      );
      const body = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      return { version: object.ETag ?? '', body };
    } catch (error) {
      const status = statusOf(error);
      if (status === 304) return 'unchanged';
      if (status === 404 || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /** A PUT conditional on the ETag read (If-Match), or on absence (If-None-Match: *) when none was read. */
  private async putUnlessChanged(
    key: string,
    text: string,
    expectedVersion: string | undefined,
  ): Promise<{ etag: string; body: Uint8Array } | 'conflict'> {
    try {
      return await this.put(
        key,
        text,
        expectedVersion === undefined ? { IfNoneMatch: '*' } : { IfMatch: expectedVersion },
      );
    } catch (error) {
      // 412: the object changed (or appeared) since it was read; 409: a concurrent conditional write won.
      const status = statusOf(error);
      if (status === 412 || status === 409) return 'conflict';
      throw error;
    }
  }

  private async put(
    key: string,
    text: string,
    condition: { IfMatch?: string; IfNoneMatch?: string },
  ): Promise<{ etag: string; body: Uint8Array }> {
    // Level 1: most of the size win for a fraction of the time (engine states are mostly base64 floats).
    const body = await gzipAsync(Buffer.from(text, 'utf8'), { level: 1 });
    const { sdk, client } = await this.connection();
    const result = await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        // Stored as a gzip file, not as gzip-encoded JSON: no client decompresses it behind our back.
        ContentType: 'application/gzip',
        ...condition,
      }),
    );
    return { etag: result.ETag ?? '', body };
  }
}

/** The text of a gzip body ('[]' for an empty one). */
async function unzipped(body: Uint8Array): Promise<string> {
  return body.length === 0 ? '[]' : (await gunzipAsync(body)).toString('utf8');
}
