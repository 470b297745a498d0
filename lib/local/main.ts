/**
 * `npm start`: the whole of Normalcy on one machine. The same handlers as the Lambdas, SQLite as the store,
 * the band job on a timer, alerts on the console.
 */
import './quiet-logs.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConsoleNotifier, FanOutNotifier } from '../adapters/console-notifier.ts';
import { WebhookNotifier } from '../adapters/webhook-notifier.ts';
import { bandSettingsFromEnvironment, minStepFromEnvironment } from '../bands/settings-from-env.ts';
import { generateKey, hashKey } from '../keys.ts';
import { startLocalServer } from './server.ts';

const dataDir = resolve(process.env.NORMALCY_DATA_DIR ?? '.normalcy');
const port = Number(process.env.PORT ?? 8080);
const bandIntervalMs = Number(process.env.NORMALCY_BAND_INTERVAL_MS ?? 60_000);

mkdirSync(dataDir, { recursive: true });
const apiKey = process.env.NORMALCY_API_KEY || localKey(dataDir);
const webhookUrl = process.env.NORMALCY_WEBHOOK_URL;
const webhookSecret = process.env.NORMALCY_WEBHOOK_SECRET;
if (webhookUrl && !webhookSecret) {
  console.error(
    'NORMALCY_WEBHOOK_URL needs NORMALCY_WEBHOOK_SECRET (the key its HMAC signature is made with)',
  );
  process.exit(1);
}
// The webhook goes first: when it fails, the console line waits for the retry, so nothing prints twice.
const notifier =
  webhookUrl && webhookSecret
    ? new FanOutNotifier([
        new WebhookNotifier({ url: webhookUrl, secret: webhookSecret }),
        new ConsoleNotifier(),
      ])
    : new ConsoleNotifier();
const server = await startLocalServer({
  dataDir,
  port,
  notifier,
  bandSettings: bandSettingsFromEnvironment(process.env),
  minStepMs: minStepFromEnvironment(process.env),
  ...(process.env.NORMALCY_DASHBOARD_URL && { dashboardUrl: process.env.NORMALCY_DASHBOARD_URL }),
});
if (!(await server.store.findKey(hashKey(apiKey)))) {
  await server.store.putKey({
    hash: hashKey(apiKey),
    name: 'local',
    scopes: ['ingest', 'read', 'admin'],
    createdAt: Date.now(),
    revokedAt: null,
  });
}

let running = false;
const timer = setInterval(async () => {
  if (running) return;
  running = true;
  try {
    const summary = await server.runBandJob();
    if (summary.bucketsProcessed > 0) {
      console.log(
        `band job: ${summary.seriesProcessed} series, ${summary.bucketsProcessed} buckets, ` +
          `${summary.anomalies} anomalous, ${summary.alertsOpened} alerts opened, ${summary.alertsResolved} resolved`,
      );
    }
  } catch (error) {
    console.error('band job failed', error);
  } finally {
    running = false;
  }
}, bandIntervalMs);

console.log(`Normalcy is running at ${server.url} (data in ${dataDir})
API key: ${apiKey}
Send a metric:
  curl -s -X POST ${server.url}/v1/metrics -H "Authorization: Bearer ${apiKey}" \\
    -H 'content-type: application/json' \\
    -d '{"metrics":[{"name":"shop.login.time","type":"timer","value":68,"dimensions":{"host":"web-1"}}]}'
List series:
  curl -s ${server.url}/v1/series -H "Authorization: Bearer ${apiKey}"
The band job runs every ${bandIntervalMs / 1000} s. Press Ctrl-C to stop.`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    clearInterval(timer);
    server.close().finally(() => process.exit(0));
  });
}

/** The key kept in the data dir, made on first start (readable by its owner only). */
function localKey(directory: string): string {
  const file = join(directory, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = generateKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
