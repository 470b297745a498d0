/**
 * `npm run demo`: Normalcy on this machine with four weeks of a web shop's metrics, so a newcomer sees bands
 * and alerts within a minute. It starts a local server (data in `.normalcy-demo`, made afresh each run),
 * posts the demo series through the real ingest API, runs the band job over them, prints the dashboard's
 * URL, and keeps serving (the band job on its timer) until Ctrl-C. `--exit` stops after printing.
 */
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { scheduleBandJob } from '../functions/local/band-job-schedule.ts';
import { DataDirectoryInUseError } from '../functions/local/data-directory.ts';
import { type LocalServer, startLocalServer } from '../functions/local/server.ts';
import { portEnv } from '../functions/shared/environment.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import { demoStory } from './demo-data.ts';

const dataDir = resolve(process.env.NORMALCY_DEMO_DIR ?? '.normalcy-demo');
let requestedPort: number;
try {
  requestedPort = portEnv('PORT') ?? 8080;
} catch (error) {
  console.error(`The demo cannot start: ${(error as Error).message}`);
  process.exit(1);
}
const exitAfterSeeding = process.argv.includes('--exit');
const batchSize = 5_000;

const began = Date.now();
// The demo's notifications are counted, not printed: a few weeks of history would scroll past the URL. Its
// history is paged as if it were live (so related alerts are grouped into incidents, as they would have been).
const notified = { OPEN: 0, ESCALATED: 0, REMINDER: 0, RESOLVED: 0 };
const incidentPages = { OPEN: 0, UPDATE: 0, RESOLVED: 0 };
const demoHistoryMs = 60 * 24 * 3_600_000;
let server: LocalServer;
try {
  server = await startLocalServer({
    dataDir,
    // Its data is made afresh each run, once no other server holds the directory.
    discardData: true,
    port: await usablePort(requestedPort),
    notifier: {
      notify: async (notification) => {
        notified[notification.state] += 1;
      },
      notifyIncident: async (notification) => {
        incidentPages[notification.state] += 1;
      },
    },
    pageWindowMs: demoHistoryMs,
  });
} catch (error) {
  if (!(error instanceof DataDirectoryInUseError)) throw error;
  console.error(
    `The demo cannot start: ${error.message}; stop it, or set NORMALCY_DEMO_DIR to another directory`,
  );
  process.exit(1);
}
const ingestKey = await addKey(server, 'demo-ingest', 'ingest');
const readKey = await addKey(server, 'demo-dashboard', 'read');

const story = demoStory(Date.now());
console.log(
  `Posting ${story.metrics.length} points (6 series, ${new Date(story.start).toISOString().slice(0, 10)} to ` +
    `${new Date(story.end).toISOString().slice(0, 10)}, every 5 minutes) to ${server.url}/v1/metrics…`,
);
for (let offset = 0; offset < story.metrics.length; offset += batchSize) {
  const response = await fetch(`${server.url}/v1/metrics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ metrics: story.metrics.slice(offset, offset + batchSize) }),
  });
  const outcome = (await response.json()) as { accepted?: number; rejected?: number };
  if (!response.ok || outcome.rejected !== 0) {
    throw new Error(`the demo batch at ${offset} was refused: ${response.status} ${JSON.stringify(outcome)}`);
  }
}

console.log('Running the band job over them…');
let buckets = 0;
let anomalies = 0;
let recorded = 0;
for (let round = 0; round < 10; round++) {
  const summary = await server.runBandJob();
  buckets += summary.bucketsProcessed;
  anomalies += summary.anomalies;
  recorded += summary.alertsOpened;
  if (summary.bucketsProcessed === 0) break;
}
// What a person would have got: alerts are recorded for all of the history, paged only when they were still
// recent (an alert that had ended over an hour before the run is history, not a page).
const alertsResponse = await fetch(`${server.url}/v1/alerts?from=${story.start}&limit=1000`, {
  headers: { authorization: `Bearer ${readKey}` },
});
const { alerts } = (await alertsResponse.json()) as {
  alerts: { id: string; startedAt: number; paged: boolean }[];
};
const inOutage = alerts.filter(
  (alert) => alert.startedAt >= story.outage.start && alert.startedAt < story.outage.end,
);
const incidentsResponse = await fetch(
  `${server.url}/v1/incidents?from=${story.outage.start}&to=${story.outage.end}`,
  { headers: { authorization: `Bearer ${readKey}` } },
);
const { incidents } = (await incidentsResponse.json()) as {
  incidents: { members: { alertId: string; name: string }[]; originAlertId: string }[];
};
const outageIds = new Set(inOutage.map((alert) => alert.id));
const outageIncidents = incidents.filter((incident) =>
  incident.members.some((member) => outageIds.has(member.alertId)),
);
const origins = outageIncidents.map(
  (incident) => incident.members.find((member) => member.alertId === incident.originAlertId)?.name ?? '?',
);
const outageSummary =
  inOutage.length === 0
    ? 'none of them'
    : `${inOutage.length} of them, paged as ${outageIncidents.length} incident${outageIncidents.length === 1 ? '' : 's'} (first to move: ${origins.join(', ')})`;

const seconds = ((Date.now() - began) / 1000).toFixed(1);
console.log(`Learned bands over ${buckets} buckets: ${anomalies} outside their band, ${recorded} alerts recorded and
${incidentPages.OPEN} incidents paged (as if live: ${incidentPages.OPEN + incidentPages.UPDATE + notified.OPEN + notified.ESCALATED} pages). The identity provider's outage on
${new Date(story.outage.start).toUTCString()}: ${outageSummary}. Ready in ${seconds} s.

Open the dashboard (the link hands it a read-only key):
  ${server.url}/#key=${readKey}

Read key: ${readKey}
API document: ${server.url}/v1/openapi.json`);

if (exitAfterSeeding) {
  await server.close();
} else {
  console.log('Press Ctrl-C to stop.');
  const schedule = scheduleBandJob(() => server.runBandJob(), 60_000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      schedule.stop();
      server.close().finally(() => process.exit(0));
    });
  }
}

async function addKey(target: LocalServer, name: string, scope: 'ingest' | 'read'): Promise<string> {
  const key = generateKey();
  await target.stores.keys.putKey({
    hash: hashKey(key),
    name,
    scopes: [scope],
    createdAt: Date.now(),
    revokedAt: null,
  });
  return key;
}

/** The port asked for, or (when something already listens there, say `npm start`) a free one. */
async function usablePort(port: number): Promise<number> {
  const free = await new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
  if (free) return port;
  console.log(`Port ${port} is taken; the demo uses another one.`);
  return 0;
}
