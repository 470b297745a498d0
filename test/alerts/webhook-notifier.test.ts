import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notificationDocument } from '../../lib/adapters/notification-text.ts';
import { WebhookDeliveryError, WebhookNotifier } from '../../lib/adapters/webhook-notifier.ts';
import { verifyWebhook } from '../../lib/alerts/webhook-signature.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import { freeTcpPort } from '../helpers/processes.ts';
import { dayMs, hourMs, minuteMs } from '../helpers/series.ts';
import { type Scenario, type Source, startScenario } from './scenario.ts';

/** A real HTTP receiver: records every request and answers with the statuses it is told, in turn. */
interface Receiver {
  readonly url: string;
  readonly requests: { headers: IncomingHttpHeaders; body: string }[];
  /** Statuses for the next requests (then 200). */
  answers: { status: number; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const receiver = { requests, answers: [] as Receiver['answers'] };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = receiver.answers.shift() ?? { status: 200 };
      response.writeHead(answer.status, answer.headers ?? {});
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks/normalcy`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const secret = 'test-secret-not-for-production';
const now = Date.UTC(2025, 10, 25, 12, 0);
const notification: Notification = {
  transitionId: 'al_00000000000000000001.open',
  alertId: 'al_00000000000000000001',
  state: 'OPEN',
  severity: 'critical',
  rule: { id: 'default', name: 'Default band rule', kind: 'band' },
  seriesId: '0123456789abcdef',
  name: 'shop.requests',
  dimensions: { host: 'web-1' },
  startedAt: now - 300_000,
  at: now,
  value: 0,
  expected: 100,
  lower: 80,
  upper: 120,
  score: 0.99,
  threshold: null,
  reason: 'below its band for 10 min',
  link: 'http://127.0.0.1:8080/#/series/0123456789abcdef?alert=al_00000000000000000001',
};

let receiver: Receiver;
let delays: number[];
beforeEach(async () => {
  receiver = await startReceiver();
  delays = [];
});
afterEach(() => receiver.close());

const notifier = (options: { url?: string; attempts?: number } = {}) =>
  new WebhookNotifier({
    url: options.url ?? receiver.url,
    secret,
    attempts: options.attempts,
    clock: { now: () => now },
    sleep: async (ms) => {
      delays.push(ms);
    },
  });

describe('WebhookNotifier', () => {
  it('POSTs the JSON document, signed with HMAC-SHA256 over the timestamp and the raw body', async () => {
    await notifier().notify(notification);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-normalcy-delivery']).toBe('al_00000000000000000001.open');
    expect(request?.headers['x-normalcy-timestamp']).toBe(String(now / 1000));
    expect(request?.headers['x-normalcy-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(request?.body ?? '')).toEqual(notificationDocument(notification));
    const check = (overrides: { secret?: string; body?: string; now?: number }) =>
      verifyWebhook({
        secret: overrides.secret ?? secret,
        body: overrides.body ?? request?.body ?? '',
        timestamp: request?.headers['x-normalcy-timestamp'] as string,
        signature: request?.headers['x-normalcy-signature'] as string,
        now: overrides.now ?? now,
      });
    expect(check({})).toBe(true);
    expect(check({ secret: 'another-secret' })).toBe(false);
    expect(check({ body: request?.body.replace('"OPEN"', '"RESOLVED"') })).toBe(false);
    expect(check({ now: now + 10 * 60_000 })).toBe(false);
  });

  it('POSTs an escalation like any transition: its own state and delivery id', async () => {
    const escalated: Notification = {
      ...notification,
      state: 'ESCALATED',
      transitionId: 'al_00000000000000000001.escalated',
      reason: 'below its band for 30 min',
    };
    await notifier().notify(escalated);
    expect(receiver.requests.map((request) => request.headers['x-normalcy-delivery'])).toEqual([
      'al_00000000000000000001.escalated',
    ]);
    expect(JSON.parse(receiver.requests[0]?.body ?? '')).toMatchObject({
      state: 'ESCALATED',
      severity: 'critical',
      transitionId: 'al_00000000000000000001.escalated',
      reason: 'below its band for 30 min',
    });
  });

  it('retries server errors with exponential backoff, the same delivery id each time', async () => {
    receiver.answers = [{ status: 503 }, { status: 502 }];
    await notifier().notify(notification);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.headers['x-normalcy-delivery']))).toEqual(
      new Set(['al_00000000000000000001.open']),
    );
    expect(delays).toEqual([500, 1000]);
  });

  it('waits as long as a 429 Retry-After asks (within its cap)', async () => {
    receiver.answers = [{ status: 429, headers: { 'retry-after': '3' } }];
    await notifier().notify(notification);
    expect(receiver.requests).toHaveLength(2);
    expect(delays).toEqual([3000]);
  });

  it('does not retry a client error, and throws so the transition stays pending', async () => {
    receiver.answers = [{ status: 400 }];
    await expect(notifier().notify(notification)).rejects.toThrow(WebhookDeliveryError);
    expect(receiver.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('throws after its last try when the receiver stays down or cannot be reached', async () => {
    receiver.answers = [{ status: 500 }, { status: 500 }, { status: 500 }];
    await expect(notifier({ attempts: 3 }).notify(notification)).rejects.toThrow('the webhook answered 500');
    expect(receiver.requests).toHaveLength(3);
    const unreachable = `http://127.0.0.1:${await freeTcpPort()}/`;
    await expect(notifier({ url: unreachable, attempts: 2 }).notify(notification)).rejects.toThrow(
      'the webhook could not be reached',
    );
    expect(delays).toEqual([500, 1000, 500]);
  });
});

describe('Webhook delivery through the band job', () => {
  let scenario: Scenario | undefined;
  afterEach(async () => {
    await scenario?.close();
    scenario = undefined;
  });

  it('a receiver down when the alert opens still gets OPEN then RESOLVED, once each', async () => {
    const monday = Date.UTC(2025, 10, 3);
    const down = monday + 8 * dayMs + 14 * hourMs;
    const source: Source = {
      name: 'shop.requests',
      dimensions: {},
      valueAt: (t) => (t >= down && t < down + 30 * minuteMs ? 0 : 100 + (((t / 300_000) * 7919) % 11) - 5),
    };
    const clock = { now: () => scenario?.clock.now() ?? 0 };
    const webhook = new WebhookNotifier({
      url: receiver.url,
      secret,
      attempts: 2,
      clock,
      sleep: async () => {},
    });
    scenario = await startScenario(monday, { notifier: webhook });
    await scenario.backfill([source], monday, down - hourMs);
    receiver.answers = Array.from({ length: 8 }, () => ({ status: 503 }));
    await scenario.live([source], down - hourMs, down + 3 * hourMs);
    const delivered = receiver.requests.filter((_, index) => index >= 8);
    expect(delivered.map((request) => JSON.parse(request.body).state)).toEqual(['OPEN', 'RESOLVED']);
    expect(
      receiver.requests
        .slice(0, 8)
        .every((request) => request.headers['x-normalcy-delivery']?.toString().endsWith('.open')),
    ).toBe(true);
  });
});
