/**
 * `npm run bench:soak [-- --duration 300 --kill-every 20-60 --band-interval 3 --seed 1 --keep]`
 *
 * Kill -9 under mixed load. Starts the local server as a user does (`tsx functions/local/main.ts`, in a temporary
 * data dir, a short band-job interval, a signed webhook to a receiver of the soak's own), makes a key per
 * client through `POST /v1/keys` and a threshold rule, then for `--duration` seconds (default 300, at most
 * 600) drives it from several clients at once (live native JSON with spikes and drops, bad items mixed in,
 * threshold series, extreme finite values, bulk backfills and resends, Influx line protocol, OTLP JSON, bad
 * requests of every kind, a reader) while killing the whole server with SIGKILL every `--kill-every` seconds
 * (default 20 to 60) and starting it again on the same data. Clients retry connection errors, 503 and 429
 * and count as acknowledged only what a 2xx acknowledged.
 *
 * At the end: the load stops, the band job catches up, and the soak checks that every acknowledged point is
 * readable through `GET /v1/series/{id}/points`, that every transition the alerts API says was sent reached
 * the webhook exactly once (and none suppressed did), and that no band-job run failed and no series was kept
 * aside. Prints a summary; exits 1 when a promise was broken (the data dir and the server's log are kept).
 */
import type { KindStats } from './soak/client.ts';
import { runSoak, type SoakReport } from './soak/run.ts';

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const seconds = (name: string, fallback: number): number => {
  const value = Number(argument(name) ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number of seconds`);
  return value * 1000;
};

/** The load runs at most ten minutes; the end (drain and checks) adds at most about four. */
const longestDurationMs = 600_000;
const durationMs = Math.min(seconds('duration', 300), longestDurationMs);
const [killShortest = 20, killLongest = 60] = (argument('kill-every') ?? '20-60').split('-').map(Number);
const report = await runSoak({
  durationMs,
  killEveryMs: [killShortest * 1000, killLongest * 1000],
  bandIntervalMs: seconds('band-interval', 3),
  drainTimeoutMs: 180_000,
  seed: Number(argument('seed') ?? 1),
  keepData: process.argv.includes('--keep'),
});
process.stdout.write(summary(report));
process.exitCode = report.findings.broken.size > 0 ? 1 : 0;

function summary(report: SoakReport): string {
  const lines: string[] = [];
  const number = (value: number) => value.toLocaleString('en-US');
  const downs = report.kills.map((kill) => kill.downMs);
  lines.push(
    `Soak: ${durationMs / 1000} s of load, ${report.kills.length} kills ` +
      `(${report.kills.filter((kill) => kill.aimed).length} aimed at a delivery; restarted in ` +
      `${downs.length ? `${Math.min(...downs)}-${Math.max(...downs)} ms` : '-'}), wall time ${Math.round(report.wallMs / 1000)} s`,
  );
  lines.push('');
  lines.push(
    row([
      'kind',
      'requests',
      'tries',
      'conn. errors',
      '503/429',
      'final answers',
      'gave up',
      'points sent',
      'acknowledged',
      'bad items refused',
    ]),
  );
  const kinds = [...report.requests.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const [kind, stats] of kinds) lines.push(row(kindRow(kind, stats)));
  lines.push('');
  const points = report.points;
  lines.push(
    `points: ${number(report.pointsAcknowledged)} acknowledged, ${number(report.pointsInDoubt)} in doubt (no final answer); ` +
      (points
        ? `${number(points.verified)} of ${number(points.acknowledged)} verified through GET /v1/series/{id}/points in ` +
          `${number(points.series)} series (${points.bucketsInDoubt} buckets with points in doubt checked by count)`
        : 'not checked'),
  );
  const server = report.server;
  lines.push(
    `band job: ${server.runSummaries} runs that processed buckets, ${server.alertsOpened} alerts opened, ` +
      `${server.alertsResolved} resolved (server log); series kept aside: ${points?.seriesKeptAside.length ?? '?'}`,
  );
  const deliveries = report.deliveries;
  if (deliveries) {
    lines.push(
      `alerts: ${deliveries.alerts} (${Object.entries(deliveries.alertsByRuleKind)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ')}); transitions: ${Object.entries(deliveries.transitions)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ')}`,
    );
    lines.push(
      `notifications: ${deliveries.deliveries} received for ${deliveries.sent} sent transitions and ${deliveries.routed} paged through incidents; duplicates: ` +
        `${deliveries.duplicatesAfterKill} after a kill (documented), ${deliveries.duplicatesUnexplained} unexplained; ` +
        `missing ${deliveries.missing}; pending under a killed run's lease ${deliveries.heldByLease}; ` +
        `webhook answered 503 on purpose ${report.webhook.failedOnPurpose} times`,
    );
  }
  lines.push(`clean stop (SIGTERM): exit code ${String(report.stopExitCode)}`);
  if (server.otherStderr > 0) {
    lines.push(`other server stderr lines: ${server.otherStderr}, e.g. ${server.otherStderrExamples[0]}`);
  }
  for (const [title, map] of [
    ['notes', report.findings.notes],
    ['BROKEN PROMISES', report.findings.broken],
  ] as const) {
    if (map.size === 0) continue;
    lines.push('', `${title}:`);
    for (const [what, { count, examples }] of map) {
      lines.push(`  ${what}: ${count}`);
      for (const example of examples) lines.push(`    e.g. ${example.split('\n')[0]}`);
    }
  }
  if (report.findings.broken.size === 0) lines.push('', 'no promise broken');
  else lines.push('', `data dir and server log kept: ${report.dataDir} (${report.serverLog})`);
  return `${lines.join('\n')}\n`;
}

function kindRow(kind: string, stats: KindStats): string[] {
  const statuses = [...stats.statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  return [
    kind,
    String(stats.requests),
    String(stats.attempts),
    String(stats.connectionErrors),
    String(stats.retriedAnswers),
    statuses,
    String(stats.gaveUp),
    String(stats.pointsSent),
    String(stats.pointsAcknowledged),
    String(stats.badItemsRefused),
  ];
}

function row(cells: readonly string[]): string {
  const widths = [18, 8, 7, 12, 7, 26, 7, 11, 12, 17];
  return cells
    .map((cell, index) =>
      index === 0 || index === 5 ? cell.padEnd(widths[index] ?? 8) : cell.padStart(widths[index] ?? 8),
    )
    .join(' ');
}
