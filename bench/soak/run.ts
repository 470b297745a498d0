/**
 * The soak: the local server as a user runs it, under mixed load from several clients, killed with SIGKILL
 * and restarted now and then; at the end, the promises checked through the API and the webhook.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../scripts/dev/random.ts';
import { Findings, type KindStats, SoakClient } from './client.ts';
import { defaultRulePerAlert, minuteMs, thresholdRule } from './data.ts';
import { Ledger } from './ledger.ts';
import { type ClientKeys, defaultShape, Load, type LoadShape } from './load.ts';
import type { Judge } from './requests.ts';
import { type ServerLog, ServerProcess, sleep } from './server-process.ts';
import { checkDeliveries, checkPoints, type DeliveryCheck, type PointCheck, readAlerts } from './verify.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

export interface SoakOptions {
  /** How long the load runs. */
  readonly durationMs: number;
  /** A kill comes this long after the previous start, uniformly between the two. */
  readonly killEveryMs: readonly [number, number];
  /** At most this many kills (default: as many as fit). */
  readonly maxKills?: number;
  /** Aim every third kill of the first half at a delivery (default true; it costs a two-minute lease). */
  readonly aimKills?: boolean;
  readonly bandIntervalMs: number;
  /** How long the end waits at most for the band job to catch up and every due transition to go out. */
  readonly drainTimeoutMs: number;
  /**
   * Whether the end waits for the band job to judge the last minute of data (default true). Without it, the
   * end waits only for the pending transitions (a short smoke run).
   */
  readonly catchUp?: boolean;
  readonly seed: number;
  readonly shape?: LoadShape;
  /** Keep the data dir and the server's log (their path is in the report). */
  readonly keepData?: boolean;
  readonly log?: (line: string) => void;
}

export interface SoakReport {
  readonly wallMs: number;
  readonly dataDir: string;
  readonly serverLog: string;
  /** Each kill: when, how long until the server answered again, and whether it was aimed at a delivery. */
  readonly kills: readonly { readonly at: number; readonly downMs: number; readonly aimed: boolean }[];
  readonly requests: ReadonlyMap<string, KindStats>;
  readonly pointsAcknowledged: number;
  readonly pointsInDoubt: number;
  readonly points: PointCheck | undefined;
  readonly deliveries: DeliveryCheck | undefined;
  /** Deliveries the receiver refused (bad signature...) and answered 503 on purpose. */
  readonly webhook: { readonly refused: number; readonly failedOnPurpose: number };
  readonly server: ServerLog;
  /** The exit code of the clean stop at the end (undefined: it had to be killed). */
  readonly stopExitCode: number | null | undefined;
  readonly findings: Findings;
}

const repository = fileURLToPath(new URL('../..', import.meta.url));

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = Date.now();
  const random = seededRandom(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-soak-'));
  const adminKey = `soak_${randomBytes(30).toString('base64url')}`;
  const webhookSecret = randomBytes(32).toString('hex');
  const receiver = new WebhookReceiver(webhookSecret, 20);
  const webhookUrl = await receiver.start();
  const port = await freePort();
  const server = new ServerProcess({
    cwd: repository,
    logDirectory: dataDir,
    port,
    env: {
      ...process.env,
      NORMALCY_DATA_DIR: join(dataDir, 'data'),
      PORT: String(port),
      NORMALCY_API_KEY: adminKey,
      NORMALCY_BAND_INTERVAL_MS: String(options.bandIntervalMs),
      NORMALCY_WEBHOOK_URL: webhookUrl,
      NORMALCY_WEBHOOK_SECRET: webhookSecret,
    },
  });
  const findings = new Findings();
  const client = new SoakClient(server.url);
  const ledger = new Ledger();
  let giveUpAt = Number.POSITIVE_INFINITY;
  const judge: Judge = { client, ledger, findings, giveUpAt: () => giveUpAt };
  const kills: { at: number; downMs: number; aimed: boolean }[] = [];
  let points: PointCheck | undefined;
  let deliveries: DeliveryCheck | undefined;
  let stopExitCode: number | null | undefined;
  let load: Load | undefined;
  try {
    await server.start();
    log(`soak: server up at ${server.url} (data in ${dataDir}), load for ${options.durationMs / 1000} s`);
    const keys = await makeKeys(client, adminKey);
    await admin(client, adminKey, 'PUT', '/v1/rules/soak-threshold', JSON.stringify(thresholdRule));
    await admin(client, adminKey, 'PUT', '/v1/rules/default', JSON.stringify(defaultRulePerAlert));

    const loadStartedAt = Date.now();
    load = new Load(judge, keys, options.shape ?? defaultShape, loadStartedAt, random);
    load.start();
    const loadEndsAt = loadStartedAt + options.durationMs;
    const maxKills = options.maxKills ?? Number.POSITIVE_INFINITY;
    const [shortest, longest] = options.killEveryMs;
    while (kills.length < maxKills) {
      const killAt = Date.now() + shortest + random() * (longest - shortest);
      if (killAt > loadEndsAt - 5_000) break;
      await sleep(killAt - Date.now());
      // Every third kill in the first half of the load waits for a notification and falls right after the
      // webhook answered it: the window docs/alerts.md documents as at-least-once (sent, not yet marked). Its
      // lease runs two minutes, which the rest of the load and the drain leave time for.
      const aimed =
        (options.aimKills ?? true) &&
        kills.length % 3 === 1 &&
        Date.now() < loadStartedAt + options.durationMs / 2;
      // Notifications go out in bursts, once a minute when the buckets close: wait for one, not past the load.
      if (aimed) await within(receiver.nextDelivery(), Math.min(75_000, loadEndsAt - 5_000 - Date.now()));
      const at = Date.now();
      await server.kill();
      await server.start();
      kills.push({ at, downMs: Date.now() - at, aimed });
      log(
        `soak: ${aimed ? 'aimed ' : ''}kill ${kills.length} at +${Math.round((at - loadStartedAt) / 1000)} s, ` +
          `up again after ${Date.now() - at} ms`,
      );
    }
    await sleep(Math.max(0, loadEndsAt - Date.now()));

    // The end: no new requests; those under way get a minute to get their answer.
    log(`soak: load stopped at +${Math.round((Date.now() - loadStartedAt) / 1000)} s; draining`);
    giveUpAt = Date.now() + 60_000;
    await load.stop();
    const drained = await drain(client, keys.reader, receiver, load.lastTick, options, log);

    // A clean stop, as Ctrl-C or a service manager does it; then the server is started once more to read
    // what it kept, with the band job held off (an hour), so that nothing is delivered while it is read.
    stopExitCode = await server.stop();
    if (stopExitCode !== 0) {
      findings.note(
        'the server did not exit 0 on SIGTERM',
        `exit code ${String(stopExitCode)} (143: tsx SIGKILLs its child when the child does not report the ` +
          'signal within about 60 ms, e.g. while a band job run holds the event loop)',
      );
    }
    await server.start({ NORMALCY_BAND_INTERVAL_MS: String(3_600_000) });
    log('soak: started again to read; checking every acknowledged point and every alert');
    points = await checkPoints(client, keys.reader, ledger, findings);
    const alerts = await readAlerts(client, keys.reader);
    const readerExitCode = await server.stop();
    if (readerExitCode !== 0) {
      findings.note(
        'the server did not exit 0 on SIGTERM',
        `exit code ${String(readerExitCode)} (after the reads)`,
      );
    }
    deliveries = checkDeliveries(
      alerts,
      receiver.deliveries,
      kills.map((kill) => kill.at),
      drained,
      findings,
    );
    if (deliveries.sent + deliveries.routed === 0) {
      findings.breach(
        'no alert was notified (the threshold rule should have fired)',
        `${deliveries.alerts} alerts`,
      );
    }
  } catch (error) {
    findings.breach('the soak could not finish', String((error as Error).stack ?? error));
  } finally {
    // After a failure, requests still being retried stop at once.
    giveUpAt = Math.min(giveUpAt, Date.now());
    await load?.stop();
    await server.close();
    await receiver.close();
  }
  for (const [name, { count, examples }] of server.log.failures) {
    findings.add('broken', `server log: ${name}`, count, examples);
  }
  for (const [name, { count, examples }] of server.log.notices) {
    findings.add('notes', `server log: ${name}`, count, examples);
  }
  for (const refusal of receiver.refused)
    findings.breach('webhook delivery with a bad signature or body', refusal);
  if (!options.keepData && findings.broken.size === 0) rmSync(dataDir, { recursive: true, force: true });
  return {
    wallMs: Date.now() - startedAt,
    dataDir,
    serverLog: server.logFile,
    kills,
    requests: client.stats,
    pointsAcknowledged: ledger.acknowledgedPoints,
    pointsInDoubt: ledger.pointsInDoubt,
    points,
    deliveries,
    webhook: { refused: receiver.refused.length, failedOnPurpose: receiver.failedOnPurpose },
    server: server.log,
    stopExitCode,
    findings,
  };
}

/**
 * Lets the band job catch up with the last tick (its bucket closed, plus the job's 15 s lateness and a few
 * runs; skipped with `catchUp: false`), then waits until no transition is pending and the webhook has been
 * quiet for three runs, or the drain time is up. Returns whether it got there in time.
 */
async function drain(
  client: SoakClient,
  key: string,
  receiver: WebhookReceiver,
  lastTick: number,
  options: SoakOptions,
  log: (line: string) => void,
): Promise<boolean> {
  const startedAt = Date.now();
  const deadline = startedAt + options.drainTimeoutMs;
  if (options.catchUp ?? true) {
    const caughtUp =
      Math.floor(lastTick / minuteMs) * minuteMs + minuteMs + 15_000 + 3 * options.bandIntervalMs;
    await sleep(Math.max(0, Math.min(caughtUp, deadline) - Date.now()));
  }
  let deliveries = receiver.deliveries.length;
  let quietSince = Date.now();
  for (;;) {
    const alerts = await readAlerts(client, key);
    const pending = alerts.flatMap(({ transitions }) => transitions.filter((t) => t.status === 'pending'));
    if (receiver.deliveries.length !== deliveries) {
      deliveries = receiver.deliveries.length;
      quietSince = Date.now();
    }
    const done = pending.length === 0 && Date.now() - quietSince >= 3 * options.bandIntervalMs;
    if (done || Date.now() >= deadline) {
      log(
        `soak: ${done ? 'drained' : 'drain timed out'} after ${Math.round((Date.now() - startedAt) / 1000)} s ` +
          `(${alerts.length} alerts, ${pending.length} transitions pending)`,
      );
      return done;
    }
    await sleep(Math.min(3_000, Math.max(0, deadline - Date.now())));
  }
}

/** The clients' keys, made through the admin route as an operator would; one of them revoked at once. */
async function makeKeys(client: SoakClient, adminKey: string): Promise<ClientKeys> {
  const make = async (name: string, scopes: string[]) => {
    const answer = await admin(client, adminKey, 'POST', '/v1/keys', JSON.stringify({ name, scopes }));
    return answer as { key: string; id: string };
  };
  const revoked = await make('soak-revoked', ['ingest']);
  await admin(client, adminKey, 'DELETE', `/v1/keys/${revoked.id}`);
  return {
    liveA: (await make('soak-live-a', ['ingest'])).key,
    liveB: (await make('soak-live-b', ['ingest'])).key,
    edge: (await make('soak-edge', ['ingest'])).key,
    backfill: (await make('soak-backfill', ['ingest'])).key,
    formats: (await make('soak-formats', ['ingest'])).key,
    bad: (await make('soak-bad', ['ingest'])).key,
    reader: (await make('soak-reader', ['read'])).key,
    revoked: revoked.key,
  };
}

async function admin(
  client: SoakClient,
  key: string,
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: string,
): Promise<unknown> {
  const answer = await client.send(
    'admin',
    {
      method,
      path,
      key,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body }),
    },
    { giveUpAt: () => Date.now() + 30_000 },
  );
  if (!answer || answer.status >= 300) {
    throw new Error(`${method} ${path}: ${answer ? `${answer.status} ${answer.text}` : 'no answer'}`);
  }
  return answer.json;
}

/** Waits for `promise`, at most `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms)))),
  ]);
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}
