import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConsoleNotifier } from '../../lib/adapters/console-notifier.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import type { BandEngineFactory, BandSettings } from '../../lib/bands/engine.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { type ApiFunction, apiRoutes } from '../../lib/http/routes.ts';
import { type BandJobOptions, type BandJobSummary, runBandJob } from '../../lib/jobs/band-job.ts';
import type { IncidentSettings } from '../../lib/jobs/incident-delivery.ts';
import { type Clock, systemClock } from '../../lib/ports/clock.ts';
import type { Notifier } from '../../lib/ports/notifier.ts';
import { createAlertsHandler } from '../alerts.ts';
import { createIngestHandler } from '../ingest.ts';
import { createQueryHandler } from '../query.ts';
import { bandJobPool } from './band-job-pool.ts';
import { type BandJobRunner, bandJobThread } from './band-job-thread.ts';
import { claimDataDirectory } from './data-directory.ts';
import { localDocuments } from './documents.ts';
import { fromHttpApiResult, lambdaContext, toHttpApiEvent } from './lambda-events.ts';
import { retryWhileLocked } from './retry-while-locked.ts';

/** API Gateway refuses bodies over 10 MB before any function runs; local mode does the same. */
const maxRawBodyBytes = 10 * 1024 * 1024;

/**
 * How long a request's store call waits for another connection's write (the band job's, or another process's)
 * before it fails (ingest then answers 503 with Retry-After). It waits on timers (see retryWhileLocked), so the
 * server answers other requests meanwhile; the band job's writes are short, so it seldom waits long.
 */
const requestLockWait = { maxWaitMs: 1_000, maxPauseMs: 10 };
/** The band job's writes wait in SQLite itself (its busy timeout): they wait on their own thread. */
const jobBusyTimeoutMs = 2_000;

export interface LocalServerOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly host?: string;
  readonly notifier?: Notifier;
  readonly clock?: Clock;
  readonly engine?: BandEngineFactory;
  readonly bandSettings?: Partial<BandSettings>;
  /** Where alert links point; default this server's URL. */
  readonly dashboardUrl?: string;
  /** Alerts that had ended this long before the band job recorded them are not paged (see BandJobOptions). */
  readonly pageWindowMs?: number;
  /** The smallest step a series is aggregated to (see BandJobOptions.minStepMs). */
  readonly minStepMs?: number;
  /** How alerts are grouped into incidents (see IncidentSettings). */
  readonly incidents?: IncidentSettings;
  /** The IANA time zone alerts are explained in (see BandJobOptions.timeZone); default UTC. */
  readonly timeZone?: string;
  /** Shards of the band job's state (see BandJobOptions.stateShards); a change re-shards on the next run. */
  readonly stateShards?: number;
  /** Delete the data directory's database before starting (the demo's fresh start). */
  readonly discardData?: boolean;
  /** Threads the band job runs its shards on (NORMALCY_BAND_WORKERS): one by default. */
  readonly bandWorkers?: number;
}

export interface LocalServer {
  readonly url: string;
  /**
   * The adapters on the server's own connection (for scripts and tests). A write through them while another
   * connection writes (a band job running) fails at once with SQLITE_BUSY rather than wait: the API's calls
   * wait, on timers.
   */
  readonly stores: SqliteStores;
  /**
   * Runs the band job once (what the schedule does in the cloud), on a thread of its own so that requests are
   * answered meanwhile; a second call waits for the first run. Rejects with DatabaseBusyError when another
   * connection kept the database locked too long (the next run tries again).
   */
  runBandJob(): Promise<BandJobSummary>;
  close(): Promise<void>;
}

type HttpLambda = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Serves the same middy handlers the Lambdas run, over node:http, with SQLite as the store: each request
 * becomes the HTTP API event API Gateway would send to the function that owns its route. The data directory
 * is this server's alone while it runs: a second server on it fails with DataDirectoryInUseError.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const claim = claimDataDirectory(options.dataDir, { discardData: options.discardData });
  try {
    return await serve(options, claim.databaseFile, claim.release);
  } catch (error) {
    claim.release();
    throw error;
  }
}

async function serve(
  options: LocalServerOptions,
  databaseFile: string,
  releaseDataDirectory: () => void,
): Promise<LocalServer> {
  // No busy timeout: SQLite would wait for a lock synchronously, holding the event loop.
  const sqlite = openSqliteStores(databaseFile, { busyTimeoutMs: 0 });
  const clock = options.clock ?? systemClock;
  const waiting = <T extends object>(store: T) => retryWhileLocked(store, requestLockWait);
  const stores = {
    metrics: waiting(sqlite.metrics),
    series: waiting(sqlite.series),
    bands: waiting(sqlite.bands),
    queries: waiting(sqlite.queries),
    keys: waiting(sqlite.keys),
    alerts: waiting(sqlite.alerts),
    incidents: waiting(sqlite.incidents),
    feedback: waiting(sqlite.feedback),
    summaries: waiting(sqlite.states),
    clock,
    documents: localDocuments(options.dataDir),
  };
  const functions: Record<ApiFunction, HttpLambda> = {
    ingest: createIngestHandler(() => stores) as unknown as HttpLambda,
    query: createQueryHandler(() => stores) as unknown as HttpLambda,
    alerts: createAlertsHandler(() => stores) as unknown as HttpLambda,
  };
  const notifier = options.notifier ?? new ConsoleNotifier();
  const engine = options.engine ?? defaultEngine;

  const server = createServer((request, response) => {
    handle(request, response, functions).catch((error: unknown) => {
      console.error('local server error', error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
    });
  });
  try {
    await listen(server, options.port ?? 8080, options.host ?? '127.0.0.1');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  const jobOptions: BandJobOptions = {
    ...(options.bandSettings !== undefined && { settings: options.bandSettings }),
    dashboardUrl: options.dashboardUrl ?? url,
    ...(options.pageWindowMs !== undefined && { pageWindowMs: options.pageWindowMs }),
    ...(options.minStepMs !== undefined && { minStepMs: options.minStepMs }),
    ...(options.incidents !== undefined && { incidents: options.incidents }),
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    ...(options.stateShards !== undefined && { stateShards: options.stateShards }),
  };
  // An engine of the caller's own cannot cross to a thread: the job then runs on this one.
  const bandJob: BandJobRunner = options.engine
    ? {
        run: () =>
          runBandJob(
            {
              metrics: stores.metrics,
              series: stores.series,
              bands: stores.bands,
              states: stores.summaries,
              alerts: stores.alerts,
              incidents: stores.incidents,
              feedback: stores.feedback,
              notifier,
              engine,
              clock,
            },
            jobOptions,
          ),
        close: async () => {},
      }
    : (options.bandWorkers ?? 1) > 1
      ? bandJobPool({
          databaseFile,
          busyTimeoutMs: jobBusyTimeoutMs,
          options: jobOptions,
          notifier,
          clock: options.clock,
          workers: options.bandWorkers ?? 1,
        })
      : bandJobThread({
          databaseFile,
          busyTimeoutMs: jobBusyTimeoutMs,
          options: jobOptions,
          notifier,
          clock: options.clock,
        });

  return {
    url,
    stores: sqlite,
    runBandJob: () => bandJob.run(),
    async close() {
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), bandJob.close()]);
      server.closeAllConnections();
      sqlite.close();
      releaseDataDirectory();
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  functions: Record<ApiFunction, HttpLambda>,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const owner = routeOwner(method, url.pathname);
  if (!owner) {
    request.resume();
    return send(response, 404, {
      error: { code: 'not_found', message: `no route for ${method} ${url.pathname}` },
    });
  }
  const body = await readBody(request);
  if (!body) {
    return send(response, 413, {
      error: {
        code: 'payload_too_large',
        message: `the request body is larger than ${maxRawBodyBytes} bytes`,
      },
    });
  }
  const event = toHttpApiEvent({
    method,
    url,
    headers: request.headers,
    body,
    sourceIp: request.socket.remoteAddress ?? '',
  });
  const result = fromHttpApiResult(await functions[owner](event, lambdaContext(`normalcy-${owner}`)));
  response.writeHead(result.statusCode, result.headers);
  response.end(method === 'HEAD' ? undefined : result.body);
}

/** Which function owns a method and path, following the API's route table (`{param}` matches one segment). */
export function routeOwner(method: string, path: string): ApiFunction | undefined {
  const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
  for (const route of apiRoutes) {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
    const pattern = new RegExp(`^${route.path.replace(/\{[^/]+\}/g, '[^/]+')}$`);
    if (pattern.test(trimmed)) return route.function;
  }
  return undefined;
}

/** The body, or undefined once it passes the size limit (the rest is drained, not kept). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxRawBodyBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
