import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EngineState } from '../bands/engine.ts';
import type { Dimensions, MetricType } from '../metrics/point.ts';
import type {
  ApiKeyRecord,
  KeyScope,
  KeyStore,
  PendingSeries,
  SeriesInfo,
  SeriesProgress,
  SeriesStore,
  SeriesTouch,
} from '../ports.ts';

export interface DynamoDbStateStoreOptions {
  readonly table: string;
  readonly client?: DynamoDBClient;
}

/** The sparse index that holds only series with unprocessed data. */
export const pendingIndex = 'pending';
const pendingMark = 'P';
/** How many series one ingest request updates at once. */
const touchConcurrency = 16;

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
}

interface KeyItem {
  pk: string;
  sk: 'KEY';
  name: string;
  scopes: string[];
  createdAt: number;
  revokedAt: number | null;
}

/**
 * The series catalog, the band job's progress and API key hashes in one DynamoDB table (`pk`, `sk`), with a
 * sparse global secondary index `pending` (partition `pendingShard`) listing the series with new data.
 */
export class DynamoDbStateStore implements SeriesStore, KeyStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbStateStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async recordSeries(touches: readonly SeriesTouch[]): Promise<void> {
    for (let offset = 0; offset < touches.length; offset += touchConcurrency) {
      await Promise.all(touches.slice(offset, offset + touchConcurrency).map((touch) => this.touch(touch)));
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

  async pendingSeries(limit: number): Promise<PendingSeries[]> {
    const pending: PendingSeries[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.options.table,
          IndexName: pendingIndex,
          KeyConditionExpression: 'pendingShard = :mark',
          ExpressionAttributeValues: { ':mark': pendingMark },
          Limit: Math.min(limit - pending.length, 1000),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as SeriesItem[]) {
        pending.push({ series: toSeriesInfo(item), progress: toProgress(item), version: item.version });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && pending.length < limit);
    return pending;
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
    const set = 'SET stepMs = :step, processedUntil = :until, engineState = :state, anomalous = :anomalous';
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

  /** Creates the series when new, bumps its version and marks it pending; then raises its last timestamp. */
  private async touch(touch: SeriesTouch): Promise<void> {
    const key = { pk: seriesKey(touch.id), sk: 'SERIES' };
    await this.documents.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: key,
        UpdateExpression:
          'SET #name = if_not_exists(#name, :name), #type = if_not_exists(#type, :type), ' +
          'dimensions = if_not_exists(dimensions, :dimensions), pendingShard = :mark ADD version :one',
        ExpressionAttributeNames: { '#name': 'name', '#type': 'type' },
        ExpressionAttributeValues: {
          ':name': touch.name,
          ':type': touch.type,
          ':dimensions': touch.dimensions,
          ':mark': pendingMark,
          ':one': 1,
        },
      }),
    );
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: key,
          UpdateExpression: 'SET lastTimestamp = :last',
          ConditionExpression: 'attribute_not_exists(lastTimestamp) OR lastTimestamp < :last',
          ExpressionAttributeValues: { ':last': touch.maxTimestamp },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

const seriesKey = (id: string) => `SERIES#${id}`;
const keyKey = (hash: string) => `KEY#${hash}`;

const toSeriesInfo = (item: SeriesItem): SeriesInfo => ({
  id: item.pk.slice('SERIES#'.length),
  name: item.name,
  type: item.type,
  dimensions: item.dimensions ?? {},
  lastTimestamp: item.lastTimestamp ?? 0,
  stepMs: item.stepMs ?? null,
  anomalous: item.anomalous ?? false,
});

const toProgress = (item: SeriesItem): SeriesProgress | undefined =>
  item.stepMs === undefined || item.processedUntil === undefined || item.engineState === undefined
    ? undefined
    : {
        stepMs: item.stepMs,
        processedUntil: item.processedUntil,
        engineState: JSON.parse(item.engineState) as EngineState,
        anomalous: item.anomalous ?? false,
      };

const toKey = (item: KeyItem): ApiKeyRecord => ({
  hash: item.pk.slice('KEY#'.length),
  name: item.name,
  scopes: item.scopes as KeyScope[],
  createdAt: item.createdAt,
  revokedAt: item.revokedAt ?? null,
});
