import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentDocument } from '../../lib/adapters/incident-text.ts';
import { notificationDocument } from '../../lib/adapters/notification-text.ts';
import { explainAlert } from '../../lib/alerts/explain.ts';
import type { IncidentNotification, IncidentNotificationMember } from '../../lib/alerts/incidents.ts';
import { signWebhook } from '../../lib/alerts/webhook-signature.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/** docs/alerts.md, which the README's Alerts section links. */
const alertsSection = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'alerts.md'), 'utf8');

/** The fenced code blocks of docs/alerts.md in a language, in order. */
const blocks = (language: string): string[] =>
  [...alertsSection.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (m) => m[1] ?? '',
  );

/** The Alerts examples of docs/alerts.md, run as written against a real local server (only the address moved). */
describe('docs/alerts.md', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    writeFileSync(join(server.dataDir, 'api-key'), `${server.key}\n`);
  });
  afterAll(() => server.close());

  it('the curl examples create the rules, the mute and the exclusion, and list open alerts', async () => {
    const script = (blocks('sh').find((block) => block.includes('/v1/rules')) ?? '')
      .replaceAll('http://127.0.0.1:8080', server.url)
      .replaceAll('.normalcy/', `${server.dataDir}/`);
    expect(script).toContain(server.url);
    // Asynchronously: the server answering curl runs in this process.
    const { stdout: output } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(output).not.toContain('"error"');
    const { rules } = await server.getJson<{ rules: { id: string }[] }>('/v1/rules');
    expect(rules.map((rule) => rule.id)).toEqual(['default', 'checkout-latency', 'login-slo', 'shop-silent']);
    const { mutes } = await server.getJson<{ mutes: { id: string }[] }>('/v1/mutes');
    expect(mutes.map((mute) => mute.id)).toEqual(['thursday-deploys']);
    const { exclusions } = await server.getJson<{ exclusions: { reason: string }[] }>('/v1/exclusions');
    expect(exclusions.map((exclusion) => exclusion.reason)).toEqual(['incident 42']);
    expect(output).toContain('"alerts":[]');
  });

  it('shows the JSON document subscribers receive, exactly as Normalcy writes it', () => {
    const shown = JSON.parse(blocks('json')[0] ?? '{}');
    const notification: Notification = {
      transitionId: shown.transitionId,
      alertId: shown.alertId,
      state: shown.state,
      severity: shown.severity,
      rule: shown.rule,
      seriesId: shown.seriesId,
      name: shown.name,
      dimensions: shown.dimensions,
      startedAt: Date.parse(shown.startedAt),
      at: Date.parse(shown.time),
      value: shown.value,
      expected: shown.expected,
      lower: shown.band.lower,
      upper: shown.band.upper,
      score: shown.score,
      threshold: shown.threshold,
      reason: shown.reason,
      explanation: shown.explanation,
      link: shown.link,
    };
    expect(notificationDocument(notification)).toEqual(shown);
    // The explanation shown is the one the evaluator writes for that bucket (five-minute buckets, UTC).
    const explained = explainAlert({
      ruleKind: shown.rule.kind,
      value: shown.value,
      expected: shown.expected,
      lower: shown.band.lower,
      upper: shown.band.upper,
      threshold: shown.threshold,
      judgedAt: Date.parse(shown.time),
      startedAt: Date.parse(shown.startedAt),
      until: Date.parse(shown.time) + 5 * 60_000,
    });
    expect(shown.explanation).toBe(explained);
    expect(Object.keys(notificationDocument(notification))).toEqual(Object.keys(shown));
  });

  it("shows an incident's JSON document, exactly as Normalcy writes it", () => {
    const shown = JSON.parse(blocks('json')[1] ?? '{}');
    const instant = (text: string | null) => (text === null ? null : Date.parse(text));
    const member = (view: Record<string, unknown>): IncidentNotificationMember =>
      ({
        ...view,
        startedAt: instant(view.startedAt as string),
        resolvedAt: instant(view.resolvedAt as string | null),
      }) as IncidentNotificationMember;
    const notification: IncidentNotification = {
      transitionId: shown.transitionId,
      incidentId: shown.incidentId,
      state: shown.state,
      severity: shown.severity,
      startedAt: Date.parse(shown.startedAt),
      resolvedAt: instant(shown.resolvedAt),
      at: Date.parse(shown.time),
      origin: member(shown.origin),
      members: shown.members.map(member),
      joined: shown.joined,
      escalated: shown.escalated,
      tiedBy: shown.tiedBy,
      link: shown.link,
    };
    expect(incidentDocument(notification)).toEqual(shown);
    expect(JSON.stringify(incidentDocument(notification))).toBe(JSON.stringify(shown));
  });

  it('the signature check accepts what the webhook sends, and nothing else', async () => {
    const file = join(server.dataDir, 'verify.mjs');
    writeFileSync(file, `${blocks('js')[0]}\nexport { fromNormalcy };\n`);
    const { fromNormalcy } = (await import(pathToFileURL(file).href)) as {
      fromNormalcy: (secret: string, body: string, headers: Record<string, string>) => boolean;
    };
    const body = '{"state":"OPEN"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'x-normalcy-timestamp': String(timestamp),
      'x-normalcy-signature': signWebhook('s3cret', timestamp, body),
    };
    expect(fromNormalcy('s3cret', body, headers)).toBe(true);
    expect(fromNormalcy('other', body, headers)).toBe(false);
    expect(fromNormalcy('s3cret', '{"state":"RESOLVED"}', headers)).toBe(false);
  });
});
