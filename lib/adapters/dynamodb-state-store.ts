import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LearnedKind, Seasonality } from '../bands/engine.ts';
import { KeyDigester, type KeySecretSource } from '../keys.ts';
import type { Dimensions, MetricType } from '../metrics/point.ts';
import { seriesMatcher } from '../metrics/series-filter.ts';
import type { ApiKeyRecord, KeyHashVersion, KeyScope, KeyStore } from '../ports/key-store.ts';
import type { SeriesCatalog, SeriesPage, SeriesPosition, SeriesQuery } from '../ports/series-catalog.ts';
import type {
  PendingSeries,
  SeriesInfo,
  SeriesProgress,
  SeriesStore,
  SeriesTouch,
} from '../ports/series-store.ts';
import { catalogIndex, keyItemPrefix, pendingIndex } from './schema.ts';
import { storedProgress } from './series-progress.ts';

export interface DynamoDbStateStoreOptions {
  readonly table: string;
  readonly client?: DynamoDBClient;
  /** The deployment's API key secret (Secrets Manager in the cloud); needed only to digest keys. */
  readonly keySecret?: KeySecretSource;
}

const pendingMark = 'P';
/** The index partition of pending series the band job put off (listed once their `pendingAfter` has come). */
const deferredMark = 'D';
/** How many series one ingest request updates at once. */
const touchConcurrency = 16;
/** Series ids one container remembers as catalogued (about 100 bytes each). */
const maxKnownSeries = 200_000;

const catalogMark = 'S';
/** Items one listing request examines at most before it answers with a cursor (bounds its latency). */
export const maxExaminedPerPage = 5_000;
/** BatchGetItem takes at most 100 keys. */
const keysPerBatchGet = 100;

/**
 * The catalog index's sort key: the name, a separator below every character a name may hold (names have no
 * control characters), then the id; byte order on it is (name, id) order.
 */
export const catalogKey = (name: string, id: string): string => `${name}\u0001${id}`;

interface SeriesItem {
  pk: string;
  sk: 'SERIES';
  name: string;
  type: MetricType;
  dimensions: Dimensions;
  lastTimestamp?: number;
  version: number;
  stepMs?: number;
  processedUntil?: number;
  anomalous?: boolean;
  engineState?: string;
  kind?: LearnedKind | null;
  seasonality?: Seasonality | null;
  catalogShard?: string;
  catalogKey?: string;
  pendingShard?: string;
  /** The oldest point of the backfills recorded since the series was last settled. */
  pendingFrom?: number;
  /** When a series the job put off is listed again. */
  pendingAfter?: number;
}

interface KeyItem {
  pk: string;
  sk: 'KEY';
  name: string;
  scopes: string[];
  createdAt: number;
  revokedAt: number | null;
  /** Absent on keys filed with plain SHA-256 before keyed digests. */
  hashVersion?: KeyHashVersion;
}

/**
 * The series catalog, the band job's progress and API key hashes in one DynamoDB table (`pk`, `sk`), with a
 * sparse global secondary index `pending` (partition `pendingShard`) listing the series with new data.
 */
export class DynamoDbStateStore implements SeriesStore, SeriesCatalog, KeyStore {
  private readonly documents: DynamoDBDocumentClient;
  /** Series this container knows are in the catalog. */
  private readonly known = new Set<string>();
  private readonly keyDigester: KeyDigester;

  constructor(private readonly options: DynamoDbStateStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.keyDigester = new KeyDigester(
      options.keySecret ??
        (() => {
          throw new Error('this DynamoDbStateStore was made without a key secret (KEY_SECRET_ARN)');
        }),
    );
  }

  digestKey(key: string): Promise<string> {
    return this.keyDigester.digest(key);
  }

  /**
   * Costs nothing for series this container has seen before and whose points are recent (the usual
   * request); creates unseen series with a conditional PutItem (pending); marks backfilled series pending.
   */
  async recordSeries(touches: readonly SeriesTouch[]): Promise<void> {
    const work = touches.filter((touch) => touch.backfill !== false || !this.known.has(touch.id));
    for (let offset = 0; offset < work.length; offset += touchConcurrency) {
      await Promise.all(work.slice(offset, offset + touchConcurrency).map((touch) => this.touch(touch)));
    }
  }

  async settlePending(seriesId: string, version: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: seriesKey(seriesId), sk: 'SERIES' },
          UpdateExpression: 'REMOVE pendingShard, pendingFrom, pendingAfter',
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': version },
        }),
      );
    } catch (error) {
      // Ingest marked the series again meanwhile: it stays pending for the next run.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listSeries(): Promise<SeriesInfo[]> {
    const series: SeriesInfo[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.options.table,
          FilterExpression: 'sk = :series',
          ExpressionAttributeValues: { ':series': 'SERIES' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as SeriesItem[]) series.push(toSeriesInfo(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return series.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async getSeries(id: string): Promise<SeriesInfo | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: { pk: seriesKey(id), sk: 'SERIES' } }),
    );
    return Item ? toSeriesInfo(Item as SeriesItem) : undefined;
  }

  /** The series ready now first (index partition P), then those put off whose time has come (D). */
  async pendingSeries(limit: number, now: number): Promise<PendingSeries[]> {
    const pending: PendingSeries[] = [];
    for (const [mark, due] of [
      [pendingMark, undefined],
      [deferredMark, now],
    ] as const) {
      let startKey: Record<string, unknown> | undefined;
      while (pending.length < limit) {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.options.table,
            IndexName: pendingIndex,
            KeyConditionExpression: 'pendingShard = :mark',
            ...(due === undefined
              ? { ExpressionAttributeValues: { ':mark': mark } }
              : {
                  FilterExpression: 'pendingAfter <= :now',
                  ExpressionAttributeValues: { ':mark': mark, ':now': due },
                }),
            Limit: Math.min(limit - pending.length, 1000),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of (page.Items ?? []) as SeriesItem[]) {
          pending.push({
            series: toSeriesInfo(item),
            progress: storedProgress({ ...item, anomalous: item.anomalous ?? false }),
            version: item.version,
            ...(item.pendingFrom !== undefined && { pendingFrom: item.pendingFrom }),
          });
        }
        startKey = page.LastEvaluatedKey;
        if (!startKey) break;
      }
    }
    return pending;
  }

  async deferPending(seriesId: string, version: number, until: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: seriesKey(seriesId), sk: 'SERIES' },
          UpdateExpression: 'SET pendingShard = :deferred, pendingAfter = :until',
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':deferred': deferredMark, ':until': until, ':version': version },
        }),
      );
    } catch (error) {
      // Ingest marked the series again meanwhile: it stays ready for the next run.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async saveProgress(
    seriesId: string,
    progress: SeriesProgress,
    version: number,
    caughtUp: boolean,
  ): Promise<void> {
    const values = {
      ':step': progress.stepMs,
      ':until': progress.processedUntil,
      ':state': JSON.stringify(progress.engineState),
      ':anomalous': progress.anomalous,
    };
    if (progress.learned) {
      Object.assign(values, { ':kind': progress.learned.kind, ':seasonality': progress.learned.seasonality });
    }
    const set =
      'SET stepMs = :step, processedUntil = :until, engineState = :state, anomalous = :anomalous' +
      (progress.learned ? ', kind = :kind, seasonality = :seasonality' : '');
    const key = { pk: seriesKey(seriesId), sk: 'SERIES' };
    if (caughtUp) {
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.options.table,
            Key: key,
            UpdateExpression: `${set} REMOVE pendingShard`,
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ...values, ':version': version },
          }),
        );
        return;
      } catch (error) {
        // New data arrived while the job ran: keep the series pending and save the progress alone.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    await this.documents.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: key,
        UpdateExpression: set,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async findSeries(query: SeriesQuery): Promise<SeriesPage> {
    const start = startKey(query);
    if (start === 'beyond') return { series: [], next: undefined };
    const matches = seriesMatcher(query);
    const found: SeriesPosition[] = [];
    let next: SeriesPosition | undefined;
    let examined = 0;
    let exclusiveStartKey = start;
    pages: while (true) {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.options.table,
          IndexName: catalogIndex,
          KeyConditionExpression:
            query.prefix === undefined
              ? 'catalogShard = :catalog'
              : 'catalogShard = :catalog AND begins_with(catalogKey, :prefix)',
          ExpressionAttributeValues: {
            ':catalog': catalogMark,
            ...(query.prefix === undefined ? {} : { ':prefix': query.prefix }),
          },
          ExclusiveStartKey: exclusiveStartKey,
          Limit: Math.min(1000, maxExaminedPerPage - examined),
        }),
      );
      const items = (page.Items ?? []) as SeriesItem[];
      for (const [index, item] of items.entries()) {
        examined += 1;
        const series = toSeriesInfo(item);
        if (!matches(series)) continue;
        found.push({ name: series.name, id: series.id });
        if (found.length === query.limit) {
          const lastOfAll = index === items.length - 1 && !page.LastEvaluatedKey;
          next = lastOfAll ? undefined : { name: series.name, id: series.id };
          break pages;
        }
      }
      if (!page.LastEvaluatedKey) break;
      if (examined >= maxExaminedPerPage) {
        const last = items.at(-1);
        next = last ? toPosition(last) : undefined;
        break;
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    }
    return { series: await this.getMany(found.map((position) => position.id)), next };
  }

  /** Full catalog entries (engine state left out) for ids, in the order given; missing ones dropped. */
  private async getMany(ids: readonly string[]): Promise<SeriesInfo[]> {
    const byId = new Map<string, SeriesInfo>();
    for (let offset = 0; offset < ids.length; offset += keysPerBatchGet) {
      let keys: Record<string, unknown>[] | undefined = ids
        .slice(offset, offset + keysPerBatchGet)
        .map((id) => ({ pk: seriesKey(id), sk: 'SERIES' }));
      // Unprocessed keys (throttling) are asked again, a bounded number of times.
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt === 5) throw new Error(`DynamoDB left ${keys.length} catalog reads unprocessed`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result: BatchGetCommandOutput = await this.documents.send(
          new BatchGetCommand({
            RequestItems: {
              [this.options.table]: {
                Keys: keys,
                ProjectionExpression:
                  'pk, #name, #type, dimensions, lastTimestamp, stepMs, anomalous, kind, seasonality',
                ExpressionAttributeNames: { '#name': 'name', '#type': 'type' },
              },
            },
          }),
        );
        for (const item of (result.Responses?.[this.options.table] ?? []) as SeriesItem[]) {
          const series = toSeriesInfo(item);
          byId.set(series.id, series);
        }
        keys = result.UnprocessedKeys?.[this.options.table]?.Keys;
      }
    }
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: { pk: keyKey(hash), sk: 'KEY' } }),
    );
    return Item ? toKey(Item as KeyItem) : undefined;
  }

  async putKey(record: ApiKeyRecord): Promise<void> {
    const item: KeyItem = {
      pk: keyKey(record.hash),
      sk: 'KEY',
      name: record.name,
      scopes: [...record.scopes],
      createdAt: record.createdAt,
      revokedAt: record.revokedAt,
      hashVersion: record.hashVersion,
    };
    await this.documents.send(new PutCommand({ TableName: this.options.table, Item: item }));
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const keys: ApiKeyRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.options.table,
          FilterExpression: 'sk = :key',
          ExpressionAttributeValues: { ':key': 'KEY' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as KeyItem[]) keys.push(toKey(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return keys.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeKey(hash: string, at: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: keyKey(hash), sk: 'KEY' },
          UpdateExpression: 'SET revokedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND revokedAt = :none',
          ExpressionAttributeValues: { ':at': at, ':none': null },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Reads the old record (consistently), puts the refiled one if none is there yet, then deletes the old one
   * if it is still active. When it was revoked in between, the refiled one is deleted again, so a revoked key
   * never comes back. (Conditional writes rather than a transaction: the window is one round trip.)
   */
  async upgradeKeyHash(legacyHash: string, record: ApiKeyRecord): Promise<boolean> {
    const legacyKey = { pk: keyKey(legacyHash), sk: 'KEY' };
    const refiledKey = { pk: keyKey(record.hash), sk: 'KEY' };
    const { Item: legacy } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: legacyKey, ConsistentRead: true }),
    );
    const active = legacy as KeyItem | undefined;
    if (!active || active.revokedAt !== null || active.hashVersion !== undefined) return false;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.options.table,
          Item: {
            ...refiledKey,
            sk: 'KEY',
            name: record.name,
            scopes: [...record.scopes],
            createdAt: record.createdAt,
            revokedAt: null,
            hashVersion: record.hashVersion,
          } satisfies KeyItem,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.options.table,
          Key: legacyKey,
          ConditionExpression: 'revokedAt = :none AND attribute_not_exists(hashVersion)',
          ExpressionAttributeValues: { ':none': null },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    await this.documents.send(new DeleteCommand({ TableName: this.options.table, Key: refiledKey }));
    return false;
  }

  /** Creates the series when new (pending); marks a known series pending again when the touch is a backfill. */
  private async touch(touch: SeriesTouch): Promise<void> {
    if (!this.known.has(touch.id)) {
      const created = await this.create(touch);
      this.remember(touch.id);
      if (created) return;
    }
    if (!touch.backfill) return;
    // Marked ready (a series the job put off too), from the touch's oldest point when it is the oldest yet:
    // DynamoDB has no min(), so the condition keeps an older mark, and a second request then marks without it.
    const mark = (from: boolean) =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: seriesKey(touch.id), sk: 'SERIES' },
          UpdateExpression: `SET pendingShard = :mark${from ? ', pendingFrom = :from' : ''} ADD version :one REMOVE pendingAfter`,
          ConditionExpression: from
            ? 'attribute_exists(pk) AND (attribute_not_exists(pendingFrom) OR pendingFrom > :from)'
            : 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':mark': pendingMark,
            ':one': 1,
            ...(from && { ':from': touch.minTimestamp }),
          },
        }),
      );
    try {
      await mark(true);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await mark(false);
    }
  }

  /** Creates a catalog entry unless one exists; true when this call created it. */
  private async create(touch: SeriesTouch): Promise<boolean> {
    const item: SeriesItem = {
      pk: seriesKey(touch.id),
      sk: 'SERIES',
      name: touch.name,
      type: touch.type,
      dimensions: touch.dimensions,
      lastTimestamp: touch.maxTimestamp,
      version: 1,
      pendingShard: pendingMark,
      catalogShard: catalogMark,
      catalogKey: catalogKey(touch.name, touch.id),
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.options.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private remember(id: string): void {
    // Bounded: past the limit the container forgets and asks the table again (a conditional write each).
    if (this.known.size >= maxKnownSeries) this.known.clear();
    this.known.add(id);
  }
}

const seriesKey = (id: string) => `SERIES#${id}`;
const keyKey = (hash: string) => `${keyItemPrefix}${hash}`;

const toSeriesInfo = (item: SeriesItem): SeriesInfo => ({
  id: item.pk.slice('SERIES#'.length),
  name: item.name,
  type: item.type,
  dimensions: item.dimensions ?? {},
  lastTimestamp: item.lastTimestamp ?? 0,
  stepMs: item.stepMs ?? null,
  anomalous: item.anomalous ?? false,
  kind: item.kind ?? null,
  seasonality: item.seasonality ?? null,
});

const toPosition = (item: SeriesItem): SeriesPosition => ({
  name: item.name,
  id: item.pk.slice('SERIES#'.length),
});

/**
 * Where a catalog Query starts: after the cursor's position, unless that lies before the prefix's range
 * (start at the range) or past it ('beyond': nothing left), since DynamoDB refuses a start key outside the
 * key condition.
 */
function startKey(query: SeriesQuery): Record<string, unknown> | undefined | 'beyond' {
  if (!query.after) return undefined;
  const key = catalogKey(query.after.name, query.after.id);
  if (query.prefix !== undefined && !key.startsWith(query.prefix)) {
    return Buffer.compare(Buffer.from(key), Buffer.from(query.prefix)) < 0 ? undefined : 'beyond';
  }
  return {
    pk: seriesKey(query.after.id),
    sk: 'SERIES',
    catalogShard: catalogMark,
    catalogKey: key,
  };
}

const toKey = (item: KeyItem): ApiKeyRecord => ({
  hash: item.pk.slice(keyItemPrefix.length),
  name: item.name,
  scopes: item.scopes as KeyScope[],
  createdAt: item.createdAt,
  revokedAt: item.revokedAt ?? null,
  ...(item.hashVersion !== undefined && { hashVersion: item.hashVersion }),
});
