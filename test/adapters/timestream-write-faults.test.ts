import {
  type _Record,
  InternalServerException,
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest.ts';
import { lambdaContext } from '../../functions/local/lambda-events.ts';
import { TimestreamStore, type TimestreamStoreOptions } from '../../lib/adapters/timestream-store.ts';
import { acceptBatch } from '../../lib/ingest/accept.ts';
import { parseNativeJson } from '../../lib/ingest/native-json.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import type { SeriesStore } from '../../lib/ports/series-store.ts';
import { PointsRefusedError, WriteIncompleteError } from '../../lib/ports/store-errors.ts';

const writeMock = mockClient(TimestreamWriteClient);
const now = Date.now();

const store = (options: Partial<TimestreamStoreOptions> = {}) =>
  new TimestreamStore({
    database: 'normalcy',
    pointsTable: 'points',
    bandsTable: 'bands',
    writeClient: new TimestreamWriteClient({ region: 'eu-west-1' }),
    version: () => 1000,
    sleep: async () => undefined,
    ...options,
  });

const points = (count: number, dimensions: Record<string, string> = {}): SeriesPoint[] =>
  Array.from({ length: count }, (_, i) => ({
    seriesId: '0123456789abcdef',
    name: 'm',
    type: 'gauge',
    value: i,
    timestamp: now - (count - i) * 1000,
    dimensions,
  }));

const throttled = () =>
  new ThrottlingException({
    message: 'Rate exceeded',
    Message: 'Rate exceeded',
    $metadata: { httpStatusCode: 429 },
  });
const serverError = () =>
  new InternalServerException({ message: 'oops', Message: 'oops', $metadata: { httpStatusCode: 500 } });
const rejected = (records: { RecordIndex: number; Reason: string; ExistingVersion?: number }[]) =>
  new RejectedRecordsException({
    message: 'rejected',
    $metadata: { httpStatusCode: 419 },
    RejectedRecords: records,
  });
const named = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

const sentRecords = () =>
  writeMock.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input.Records ?? []);

beforeEach(() => writeMock.reset());

describe('TimestreamStore.writePoints under faults', () => {
  it('retries throttling and 500s with backoff, then succeeds with the same records', async () => {
    const delays: number[] = [];
    writeMock.on(WriteRecordsCommand).rejectsOnce(throttled()).rejectsOnce(serverError()).resolves({});
    await store({ sleep: async (ms) => void delays.push(ms), random: () => 1, retryBaseMs: 50 }).writePoints(
      points(3),
    );
    const sent = sentRecords();
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual(sent[0]);
    expect(delays).toEqual([50, 100]);
  });

  it('retries a call that does not answer in time', async () => {
    writeMock
      .on(WriteRecordsCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .resolves({});
    await store({ attemptTimeoutMs: 20 }).writePoints(points(2));
    expect(sentRecords()).toHaveLength(2);
  });

  it('gives up at the deadline and says which points are unconfirmed', async () => {
    writeMock.on(WriteRecordsCommand).rejects(throttled());
    const write = store({
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    }).writePoints(points(150), { deadline: Date.now() + 100 });
    await expect(write).rejects.toBeInstanceOf(WriteIncompleteError);
    await expect(write).rejects.toMatchObject({ unconfirmed: 150 });
  });

  it('does not retry errors that will not pass (access denied), and reports the points unconfirmed', async () => {
    writeMock.on(WriteRecordsCommand).rejects(named('AccessDeniedException', 403));
    await expect(store().writePoints(points(2))).rejects.toMatchObject({
      name: 'WriteIncompleteError',
      unconfirmed: 2,
    });
    expect(sentRecords()).toHaveLength(1);
  });

  it('handles each RejectedRecords reason: upsert, identical, out of range', async () => {
    writeMock
      .on(WriteRecordsCommand)
      .rejectsOnce(
        rejected([
          {
            RecordIndex: 0,
            Reason:
              'A record with the same dimensions, time and measure name but a different measure value exists',
            ExistingVersion: 7000,
          },
          { RecordIndex: 1, Reason: 'An identical record already exists', ExistingVersion: 1000 },
          {
            RecordIndex: 2,
            Reason: 'The record timestamp is outside the time range [..] of the memory store',
          },
        ]),
      )
      .resolves({});
    const write = store().writePoints(points(4));
    await expect(write).rejects.toBeInstanceOf(PointsRefusedError);
    await expect(write).rejects.toMatchObject({
      refused: [
        { index: 2, reason: 'The record timestamp is outside the time range [..] of the memory store' },
      ],
    });
    const sent = sentRecords();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual([{ ...(sent[0]?.[0] as _Record), Version: 7001 }]);
  });

  it('refuses a whole call Timestream finds invalid, and never sends a record over 2 KB', async () => {
    writeMock.on(WriteRecordsCommand).rejects(named('ValidationException', 400));
    const huge = points(1, { note: 'x'.repeat(2100) }).map((point) => ({
      ...point,
      seriesId: 'fedcba9876543210',
    }));
    const write = store().writePoints([...huge, ...points(2)]);
    await expect(write).rejects.toMatchObject({ name: 'PointsRefusedError' });
    const error = (await write.catch((caught: unknown) => caught)) as PointsRefusedError;
    expect(error.refused.map((refusal) => refusal.index)).toEqual([0, 1, 2]);
    expect(error.refused[0]?.reason).toMatch(/over Timestream's 2048-byte limit/);
    expect(sentRecords()).toEqual([[expect.anything(), expect.anything()]]);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    writeMock.on(WriteRecordsCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return {};
    });
    await store({ concurrency: 3 }).writePoints(points(1000));
    expect(sentRecords()).toHaveLength(10);
    expect(most).toBe(3);
  });
});

describe('Function: ingest over Timestream, every fault', () => {
  const series: SeriesStore = {
    recordSeries: async () => undefined,
    listSeries: async () => [],
    getSeries: async () => undefined,
    pendingSeries: async () => [],
    saveProgress: async () => undefined,
    settlePending: async () => undefined,
    deferPending: async () => undefined,
  };
  const outcome = fc.oneof(
    fc.constant({ kind: 'ok' as const }),
    fc.constant({ kind: 'throttle' as const }),
    fc.constant({ kind: 'server' as const }),
    fc.constant({ kind: 'timeout' as const }),
    fc.record({
      kind: fc.constantFrom('version' as const, 'identical' as const, 'range' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  );

  it('writes every accepted point exactly once, or tells the client to retry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(outcome, { maxLength: 12 }),
        fc.integer({ min: 1, max: 250 }),
        fc.boolean(),
        async (script, count, endless) => {
          writeMock.reset();
          const landed = new Map<string, number>();
          const queue = [...script];
          writeMock.on(WriteRecordsCommand).callsFake(async (input: WriteRecordsCommandInput) => {
            const records = input.Records ?? [];
            const step = queue.shift() ?? { kind: endless ? ('throttle' as const) : ('ok' as const) };
            const land = (skip: Set<number>) =>
              records.forEach((record, index) => {
                if (!skip.has(index)) landed.set(record.Time ?? '', (landed.get(record.Time ?? '') ?? 0) + 1);
              });
            if (step.kind === 'ok') {
              land(new Set());
              return {};
            }
            if (step.kind === 'throttle') throw throttled();
            if (step.kind === 'server') throw serverError();
            if (step.kind === 'timeout') return new Promise(() => undefined);
            const chosen = records
              .map((_, index) => index)
              .filter((index) => (index * 0.618) % 1 < (step as { fraction: number }).fraction);
            land(new Set(chosen));
            throw rejected(
              chosen.map((index) =>
                step.kind === 'range'
                  ? { RecordIndex: index, Reason: 'The record timestamp is outside the time range' }
                  : step.kind === 'identical'
                    ? {
                        RecordIndex: index,
                        Reason: 'An identical record already exists',
                        ExistingVersion: 1000,
                      }
                    : {
                        RecordIndex: index,
                        Reason: 'A different measure value exists',
                        ExistingVersion: 5000,
                      },
              ),
            );
          });
          // Identical records are there already: they count as landed before this write.
          const metrics = Array.from({ length: count }, (_, i) => ({
            name: 'm',
            value: i,
            timestamp: now - 1000 * (count - i),
          }));
          const batch = parseNativeJson(JSON.stringify({ metrics }), timeWindow(now + 1000));
          const target = store({ attemptTimeoutMs: 5, sleep: async () => undefined });
          try {
            const result = await acceptBatch(
              batch,
              { metrics: target, series },
              { deadline: Date.now() + 300 },
            );
            // Every refused item, not only the first problems the answer lists.
            const refused = result.refusedItems;
            for (const [index, metric] of metrics.entries()) {
              const times = landed.get(String(metric.timestamp)) ?? 0;
              if (refused.has(index)) expect(times).toBe(0);
              else
                expect(times === 1 || (times === 0 && script.some((step) => step.kind === 'identical'))).toBe(
                  true,
                );
            }
            expect(result.accepted + refused.size).toBe(count);
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 400) {
              // Every point was refused for good: none may have landed.
              for (const metric of metrics) expect(landed.get(String(metric.timestamp)) ?? 0).toBe(0);
              return;
            }
            expect(error).toMatchObject({ statusCode: 503, options: { headers: { 'retry-after': '5' } } });
            for (const metric of metrics)
              expect(landed.get(String(metric.timestamp)) ?? 0).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Function: ingest answers for Timestream faults', () => {
  const handler = () =>
    createIngestHandler(() => ({
      metrics: store({ sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))) }),
      series: {
        recordSeries: async () => undefined,
        listSeries: async () => [],
        getSeries: async () => undefined,
        pendingSeries: async () => [],
        saveProgress: async () => undefined,
        settlePending: async () => undefined,
        deferPending: async () => undefined,
      },
      keys: {
        digestKey: async () => 'f'.repeat(64),
        upgradeKeyHash: async () => false,
        findKey: async (hash) => ({ hash, name: 'k', scopes: ['ingest'], createdAt: 0, revokedAt: null }),
        putKey: async () => undefined,
        listKeys: async () => [],
        revokeKey: async () => false,
      },
      clock: { now: () => Date.now() },
    }));
  const post = (metrics: unknown[]) =>
    handler()(
      {
        version: '2.0',
        rawPath: '/v1/metrics',
        headers: { authorization: 'Bearer nrm_any', 'content-type': 'application/json' },
        body: JSON.stringify({ metrics }),
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/v1/metrics' } },
      } as never,
      // 3.5 s of budget: 0.5 s for writing once the answer margin is kept.
      lambdaContext('normalcy-ingest', 3_500),
    );

  it('answers 503 with Retry-After when throttling outlasts the time budget', async () => {
    writeMock.on(WriteRecordsCommand).rejects(throttled());
    const result = await post([{ name: 'm', value: 1 }]);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(result.body ?? '{}').error.message).toMatch(/send the same request again/);
  });

  it('reports points Timestream refused for their time by item and field, storing the rest', async () => {
    writeMock
      .on(WriteRecordsCommand)
      .rejects(
        rejected([
          { RecordIndex: 1, Reason: 'The record timestamp is outside the time range of the memory store' },
        ]),
      );
    const result = await post([
      { name: 'a', value: 1, timestamp: now - 1000 },
      { name: 'b', value: 2, timestamp: now - 2000 },
    ]);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '{}')).toEqual({
      accepted: 1,
      rejected: 1,
      problems: [
        {
          index: 1,
          field: 'timestamp',
          message: 'refused by the store: The record timestamp is outside the time range of the memory store',
        },
      ],
    });
  });
});
