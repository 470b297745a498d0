/**
 * `npm start`: the whole of Normalcy on one machine. The same handlers as the Lambdas, SQLite as the store,
 * the band job on a timer (on a thread of its own), alerts on the console.
 */
import './quiet-logs.ts';
import { chmodSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AlertmanagerNotifier, firingWindowFor } from '../../lib/adapters/alertmanager-notifier.ts';
import { ConsoleNotifier, FanOutNotifier } from '../../lib/adapters/console-notifier.ts';
import { localApiKey } from '../../lib/adapters/local-key-files.ts';
import { WebhookNotifier } from '../../lib/adapters/webhook-notifier.ts';
import { bandSettingsFromEnvironment, minStepFromEnvironment } from '../../lib/bands/settings-from-env.ts';
import { checkChosenKey, registerKey } from '../../lib/keys.ts';
import {
  alertmanagerUrlEnv,
  incidentSettingsEnv,
  portEnv,
  positiveNumberEnv,
  timeZoneEnv,
} from '../shared/environment.ts';
import { scheduleBandJob } from './band-job-schedule.ts';
import { DataDirectoryInUseError, dataFiles } from './data-directory.ts';
import { type LocalServer, startLocalServer } from './server.ts';

const dataDir = resolve(process.env.NORMALCY_DATA_DIR ?? '.normalcy');
let port: number;
let bandIntervalMs: number;
let incidents: ReturnType<typeof incidentSettingsEnv>;
let timeZone: string | undefined;
let alertmanagerUrl: string | undefined;
let stateShards: number | undefined;
let bandWorkers: number | undefined;
try {
  port = portEnv('PORT') ?? 8080;
  bandIntervalMs = positiveNumberEnv('NORMALCY_BAND_INTERVAL_MS') ?? 60_000;
  incidents = incidentSettingsEnv();
  timeZone = timeZoneEnv('NORMALCY_TIME_ZONE');
  alertmanagerUrl = alertmanagerUrlEnv();
  stateShards = positiveNumberEnv('NORMALCY_STATE_SHARDS', { integer: true });
  bandWorkers = positiveNumberEnv('NORMALCY_BAND_WORKERS', { integer: true });
} catch (error) {
  console.error(`Normalcy cannot start: ${(error as Error).message}`);
  process.exit(1);
}

if (process.env.NORMALCY_API_KEY) {
  try {
    checkChosenKey(process.env.NORMALCY_API_KEY);
  } catch (error) {
    console.error(`Normalcy cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
}
const webhookUrl = process.env.NORMALCY_WEBHOOK_URL;
const webhookSecret = process.env.NORMALCY_WEBHOOK_SECRET;
if (webhookUrl && !webhookSecret) {
  console.error(
    'NORMALCY_WEBHOOK_URL needs NORMALCY_WEBHOOK_SECRET (the key its HMAC signature is made with)',
  );
  process.exit(1);
}
// The webhook and Alertmanager go first: when one fails, the console line waits for the retry, so nothing
// prints twice.
const notifiers = [
  ...(webhookUrl && webhookSecret ? [new WebhookNotifier({ url: webhookUrl, secret: webhookSecret })] : []),
  ...(alertmanagerUrl
    ? [new AlertmanagerNotifier({ url: alertmanagerUrl, firingWindowMs: firingWindowFor(bandIntervalMs) })]
    : []),
];
const notifier =
  notifiers.length > 0 ? new FanOutNotifier([...notifiers, new ConsoleNotifier()]) : new ConsoleNotifier();
let server: LocalServer;
try {
  server = await startLocalServer({
    dataDir,
    port,
    notifier,
    bandSettings: bandSettingsFromEnvironment(process.env),
    minStepMs: minStepFromEnvironment(process.env),
    incidents,
    ...(timeZone !== undefined && { timeZone }),
    ...(stateShards !== undefined && { stateShards }),
    ...(bandWorkers !== undefined && { bandWorkers }),
    ...(process.env.NORMALCY_DASHBOARD_URL && { dashboardUrl: process.env.NORMALCY_DASHBOARD_URL }),
  });
} catch (error) {
  if (!(error instanceof DataDirectoryInUseError)) throw error;
  console.error(
    `Normalcy cannot start: ${error.message}; stop it, or set NORMALCY_DATA_DIR to another directory`,
  );
  process.exit(1);
}
const keyFile = join(dataDir, dataFiles.apiKey);
const keyFromEnvironment = Boolean(process.env.NORMALCY_API_KEY);
// Made on first start, readable by its owner only (a key file of an older version is narrowed).
const apiKey = localApiKey(dataDir, process.env.NORMALCY_API_KEY);
if (existsSync(keyFile)) chmodSync(keyFile, 0o600);
await registerKey(server.stores.keys, apiKey, {
  name: 'local',
  scopes: ['ingest', 'read', 'admin'],
  createdAt: Date.now(),
});

const schedule = scheduleBandJob(() => server.runBandJob(), bandIntervalMs);

// The key is printed once; the examples read it from the environment, so it does not fill the terminal's
// scrollback (or a screen share) more than needed.
console.log(`Normalcy is running at ${server.url} (data in ${dataDir})
${keyFromEnvironment ? 'API key: the one in NORMALCY_API_KEY' : `API key (all scopes, kept in ${keyFile}): ${apiKey}`}
Send a metric:
${keyFromEnvironment ? '' : `  export NORMALCY_API_KEY=$(cat ${keyFile})\n`}  curl -s -X POST ${server.url}/v1/metrics -H "Authorization: Bearer $NORMALCY_API_KEY" \\
    -H 'content-type: application/json' \\
    -d '{"metrics":[{"name":"shop.login.time","type":"timer","value":68,"dimensions":{"host":"web-1"}}]}'
List series:
  curl -s ${server.url}/v1/series -H "Authorization: Bearer $NORMALCY_API_KEY"
${alertmanagerUrl ? 'Alerts also go to Alertmanager (NORMALCY_ALERTMANAGER_URL).\n' : ''}The band job runs every ${bandIntervalMs / 1000} s. Press Ctrl-C to stop.`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    schedule.stop();
    server.close().finally(() => process.exit(0));
  });
}
