import { describeValue, HttpError, type Problem, ProblemList, ValidationError } from '../lib/errors.ts';
import { acceptBatch, outcomeBody } from '../lib/ingest/accept.ts';
import { parseCollectdJson } from '../lib/ingest/collectd.ts';
import { parseLineProtocol, precisionOf } from '../lib/ingest/influx-line.ts';
import { parseNativeJson } from '../lib/ingest/native-json.ts';
import { parseNetuitive } from '../lib/ingest/netuitive.ts';
import { convertOtlp, type OtlpBatch, parseOtlpJson } from '../lib/ingest/otlp/metrics.ts';
import { decodeMetricsRequest, encodeMetricsResponse, encodeStatus } from '../lib/ingest/otlp/wire.ts';
import { convertWriteRequest, decodeWriteRequest } from '../lib/ingest/remote-write.ts';
import { decompressSnappy } from '../lib/ingest/snappy.ts';
import { type TimeWindow, timeWindow } from '../lib/ingest/validate.ts';
import { createKey, listKeyViews, readKeyRequest, revokeKey } from '../lib/key-admin.ts';
import { keyFromBasicAuth, keyFromHeaders } from '../lib/keys.ts';
import { ingestLimits } from '../lib/metrics/limits.ts';
import { cloudIngestDependencies } from './shared/cloud-ingest.ts';
import type { IngestDependencies } from './shared/dependencies.ts';
import {
  bodyBytes,
  bodyText,
  type HttpEvent,
  httpHandler,
  json,
  mediaType,
  type RouteContext,
  type RouteDefinition,
  replyMessage,
} from './shared/http.ts';
import { logger } from './shared/logger.ts';

/** Time kept back from the function's budget to record series and answer after the points are written. */
const answerMarginMs = 3_000;

type IngestContext = RouteContext<IngestDependencies>;

/** The window of timestamps this request may carry. */
const windowOf = ({ dependencies }: IngestContext): TimeWindow =>
  timeWindow(dependencies.clock.now(), dependencies.maxPointAgeMs ?? ingestLimits.maxAgeMs);

/** Writes a parsed batch within the function's time budget. */
async function accept(batch: Parameters<typeof acceptBatch>[0], { dependencies, lambda }: IngestContext) {
  const outcome = await acceptBatch(batch, dependencies, {
    deadline: Date.now() + lambda.getRemainingTimeInMillis() - answerMarginMs,
    now: dependencies.clock.now(),
  });
  // The count only: what the client sent is never logged.
  if (outcome.rejected > 0) logger.warn('items rejected', { rejectedItems: outcome.rejected });
  return outcome;
}

/** The ingest routes: every format an agent may send. */
export const ingestRoutes: readonly RouteDefinition<IngestDependencies>[] = [
  {
    method: 'POST',
    path: '/v1/metrics',
    scope: 'ingest',
    async handle(event: HttpEvent, context) {
      requireJson(event);
      const batch = parseNativeJson(bodyText(event), windowOf(context));
      return json(200, outcomeBody(await accept(batch, context)));
    },
  },
  {
    method: 'POST',
    path: '/otlp/v1/metrics',
    scope: 'ingest',
    async handle(event, context) {
      const protobuf = isProtobuf(event);
      if (!protobuf && !isJson(event)) {
        throw new HttpError(
          415,
          'unsupported_media_type',
          'OTLP bodies must be application/x-protobuf or application/json',
        );
      }
      const batch: OtlpBatch = protobuf
        ? convertOtlp(decodeMetricsRequest(bodyBytes(event)), windowOf(context))
        : parseOtlpJson(bodyText(event), windowOf(context));
      const outcome = await accept(batch, context);
      // Data points refused by the store count as rejected too.
      const rejected = batch.rejectedDataPoints + outcome.refusedItems.size;
      const message = outcome.rejected > 0 ? summarize(outcome.problems, outcome.rejected) : '';
      if (protobuf) return protobufResponse(200, encodeMetricsResponse(rejected, message));
      return json(
        200,
        message ? { partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: message } } : {},
      );
    },
    renderError: (error, event) => {
      // OTLP answers errors with a google.rpc.Status in the request's encoding.
      const code = otlpStatusCodes[error.statusCode] ?? 2;
      const message = error.problems?.length
        ? `${replyMessage(error)}; ${summarize(error.problems, error.problemCount)}`
        : replyMessage(error);
      const headers = error.options.headers ?? {};
      return isProtobuf(event)
        ? protobufResponse(error.statusCode, encodeStatus(code, message), headers)
        : json(error.statusCode, { code, message }, headers);
    },
  },
  influxWrite('/v1/influx/write'),
  influxWrite('/api/v2/write'),
  {
    method: 'POST',
    path: '/v1/collectd',
    scope: 'ingest',
    async handle(event, context) {
      const storeRates = /^(?:true|1|yes)$/i.test(event.queryStringParameters?.storeRates ?? '');
      const batch = parseCollectdJson(bodyText(event), windowOf(context), { storeRates });
      return json(200, outcomeBody(await accept(batch, context)));
    },
  },
  netuitiveIngest('/ingest/{apiKey}'),
  netuitiveIngest('/ingest/infrastructure/{apiKey}'),
  netuitiveIngest('/ingest/statsd/{apiKey}'),
  {
    // Netuitive agents post events here; Normalcy stores metrics only, and says so instead of failing them
    // (after ten failures in a row an agent drops its queued samples).
    method: 'POST',
    path: '/ingest/events/{apiKey}',
    scope: 'ingest',
    keyFrom: (event) => event.pathParameters?.apiKey,
    handle: async () => json(202, { accepted: 0, message: 'events are not stored by Normalcy; metrics are' }),
  },
  {
    // Prometheus remote write 1.0 (`remote_write:`): Prometheus resends on 5xx and (when told to) 429, and drops
    // a batch on any other 4xx after logging the body; so valid series are stored and refused ones named in a
    // 400, and 503 only when the store could not confirm the write (resending is safe).
    method: 'POST',
    path: '/api/v1/write',
    scope: 'ingest',
    keyFrom: headerOrBasicKey,
    async handle(event, context) {
      requireRemoteWrite(event);
      const batch = convertWriteRequest(decodeWriteRequest(bodyBytes(event)), windowOf(context));
      let outcome: Awaited<ReturnType<typeof accept>>;
      try {
        outcome = await accept(batch, context);
      } catch (error) {
        // A batch refused for good is not resent: its counters' readings are the baseline of the next one.
        if (error instanceof HttpError && error.statusCode < 500) batch.commit();
        throw error;
      }
      batch.commit();
      if (outcome.rejected === 0) return { statusCode: 204, headers: {}, body: '' };
      throw new ValidationError(
        `partial write: ${outcome.accepted} point(s) stored, ${outcome.rejected} problem(s) (index: the series in the request): ${summarize(outcome.problems, outcome.rejected)}`,
        problemListOf(outcome.problems, outcome.rejected),
      );
    },
  },
  {
    method: 'GET',
    path: '/v1/keys',
    scope: 'admin',
    handle: async (_event, { dependencies }) => json(200, { keys: await listKeyViews(dependencies.keys) }),
  },
  {
    method: 'POST',
    path: '/v1/keys',
    scope: 'admin',
    handle: async (event, { dependencies }) =>
      json(
        201,
        await createKey(dependencies.keys, readKeyRequest(bodyText(event)), dependencies.clock.now()),
        {
          'cache-control': 'no-store',
        },
      ),
  },
  {
    method: 'DELETE',
    path: '/v1/keys/{id}',
    scope: 'admin',
    handle: async (event, { dependencies }) =>
      json(200, {
        key: await revokeKey(dependencies.keys, event.pathParameters?.id, dependencies.clock.now()),
      }),
  },
  {
    // Netuitive agents read the server's clock from the Date header of HEAD /time (as every GET, without body).
    method: 'HEAD',
    path: '/time',
    scope: undefined,
    handle: async (event, context) => ({ ...(await serverTime(event, context)), body: '' }),
  },
  {
    method: 'GET',
    path: '/time',
    scope: undefined,
    handle: serverTime,
  },
];

/** The server's clock, in the body and in the Date header. */
async function serverTime(_event: HttpEvent, { dependencies }: IngestContext) {
  const now = dependencies.clock.now();
  return json(200, { time: now }, { date: new Date(now).toUTCString(), 'cache-control': 'no-store' });
}

/**
 * Netuitive ingest, keyed by the path (`/ingest/{apiKey}`) as Netuitive agents send it: 202 like Netuitive's
 * API. Never 410 or 418, which would disable an agent for good.
 */
function netuitiveIngest(path: string): RouteDefinition<IngestDependencies> {
  return {
    method: 'POST',
    path,
    scope: 'ingest',
    keyFrom: (event) => event.pathParameters?.apiKey,
    async handle(event, context) {
      const batch = parseNetuitive(bodyText(event), windowOf(context));
      return json(202, outcomeBody(await accept(batch, context)));
    },
  };
}

/**
 * InfluxDB line protocol, as Telegraf's outputs send it: 204 when every point was stored; when some lines or
 * fields were refused, 400 "partial write" as InfluxDB answers (the valid points are stored, and Telegraf
 * logs the message and does not resend). Bodies carry both the v1 (`error`) and v2 (`code`, `message`) keys.
 */
function influxWrite(path: string): RouteDefinition<IngestDependencies> {
  return {
    method: 'POST',
    path,
    scope: 'ingest',
    keyFrom: influxKey,
    async handle(event, context) {
      const precision = precisionOf(event.queryStringParameters?.precision);
      const batch = parseLineProtocol(bodyText(event), precision, windowOf(context));
      const outcome = await accept(batch, context);
      if (outcome.rejected === 0) return { statusCode: 204, headers: {}, body: '' };
      const message = `partial write: ${outcome.accepted} point(s) stored, ${outcome.rejected} problem(s): ${summarize(outcome.problems, outcome.rejected)}`;
      return json(400, { code: 'invalid', message, error: message, ...outcomeBody(outcome) });
    },
    renderError: (error) => {
      const code =
        error.statusCode === 401
          ? 'unauthorized'
          : error.statusCode === 413
            ? 'request too large'
            : error.statusCode >= 500
              ? 'unavailable'
              : 'invalid';
      const message = error.problems?.length
        ? `${replyMessage(error)}: ${summarize(error.problems, error.problemCount)}`
        : replyMessage(error);
      return json(
        error.statusCode,
        {
          code,
          message,
          error: message,
          problems: error.problems,
          ...(error.problems && { problemCount: error.problemCount }),
        },
        error.options.headers,
      );
    },
  };
}

/**
 * The key of an Influx write: `Authorization: Token KEY` or `Bearer KEY` (v2, or Telegraf's http_headers),
 * the password of Basic auth or the `p` parameter (v1's username/password).
 */
function influxKey(event: HttpEvent): string | undefined {
  return headerOrBasicKey(event) ?? (event.queryStringParameters?.p || undefined);
}

/** The key from `Authorization: Bearer|Token KEY`, `x-api-key`, or the password of Basic auth. */
function headerOrBasicKey(event: HttpEvent): string | undefined {
  return keyFromHeaders(event.headers) ?? keyFromBasicAuth(event.headers);
}

/** gRPC status codes for the HTTP statuses ingest answers (google.rpc.Code). */
const otlpStatusCodes: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  413: 8,
  415: 3,
  429: 8,
  503: 14,
};

const isProtobuf = (event: HttpEvent) => /^application\/(?:x-)?protobuf$/.test(mediaType(event));
const isJson = (event: HttpEvent) => mediaType(event) === 'application/json' || mediaType(event) === '';

/**
 * Refuses a body whose Content-Type says it is not JSON (415), so that a form post or a text body is not
 * read as metrics by chance. JSON is `application/json` or any `+json` type, with parameters (`charset`);
 * a body without a Content-Type is read as JSON, as the agents and scripts that omit it always meant.
 */
function requireJson(event: HttpEvent): void {
  const type = mediaType(event);
  if (type === '' || type === 'application/json' || /^application\/[^/]+\+json$/.test(type)) return;
  throw new HttpError(
    415,
    'unsupported_media_type',
    `the body must be JSON: send "Content-Type: application/json" (got ${describeValue(type)})`,
  );
}

/**
 * Refuses what is not a remote write 1.0 body (415): the spec requires `Content-Type: application/x-protobuf`
 * and `Content-Encoding: snappy` (the body was decompressed by requestBody); a 2.0 sender
 * (`proto=io.prometheus.write.v2.Request`, version 2.x) is told to send 1.0.
 */
function requireRemoteWrite(event: HttpEvent): void {
  const type = mediaType(event);
  const encoding = (event.headers['content-encoding'] ?? '').trim().toLowerCase();
  const proto = /;\s*proto\s*=\s*"?([^;"\s]+)/i.exec(event.headers['content-type'] ?? '')?.[1];
  const version = event.headers['x-prometheus-remote-write-version']?.trim() ?? '';
  if (type !== 'application/x-protobuf' || encoding !== 'snappy') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `remote write bodies must be snappy-compressed protobuf: send "Content-Type: application/x-protobuf" and "Content-Encoding: snappy" (got ${describeValue(type)} and ${describeValue(encoding)})`,
    );
  }
  if ((proto !== undefined && proto !== 'prometheus.WriteRequest') || /^[2-9]/.test(version)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Normalcy takes remote write 1.0 (prometheus.WriteRequest), not ${describeValue(proto ?? `version ${version}`)}: set protobuf_message: prometheus.WriteRequest in remote_write`,
    );
  }
}

/** The listed problems and their total count, as a ValidationError carries them. */
function problemListOf(problems: readonly Problem[], total: number): ProblemList {
  const list = new ProblemList(problems);
  if (total > problems.length) list.addUnlisted(total - problems.length);
  return list;
}

const protobufResponse = (statusCode: number, body: Uint8Array, headers: Record<string, string> = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/x-protobuf', ...headers },
  body: Buffer.from(body).toString('base64'),
  isBase64Encoded: true,
});

/** The first problems as one line, for clients that show a single message; `total` counts them all. */
function summarize(problems: readonly Problem[], total: number): string {
  const shown = problems.slice(0, 5).map((problem) => `${problem.field}: ${problem.message}`);
  const more = total > shown.length ? ` (and ${total - shown.length} more)` : '';
  return `${shown.join('; ')}${more}`;
}

export const createIngestHandler = (dependencies: () => IngestDependencies) =>
  // Prometheus remote write compresses with snappy; only this function takes it (the others stay smaller).
  httpHandler(ingestRoutes, dependencies, { bodyDecoders: { snappy: decompressSnappy } });

export const handler = createIngestHandler(cloudIngestDependencies);
