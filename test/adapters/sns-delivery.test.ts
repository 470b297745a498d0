import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { deliverTransitions } from '../../lib/jobs/alert-delivery.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import { type Scenario, type Source, startScenario } from '../alerts/scenario.ts';
import { dayMs, hourMs, minuteMs } from '../helpers/series.ts';

/**
 * Delivery through SNS when SNS misbehaves: the real band job and SQLite store, SNS mocked at the SDK
 * boundary. Every transition must reach SNS exactly once and in order, whatever fails in between. The rule
 * pages each alert on its own (`notify: "alert"`); incidents under the same faults are tested in
 * test/jobs/incident-delivery.test.ts.
 */

const snsMock = mockClient(SNSClient);
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:normalcy-alerts';
const monday = Date.UTC(2025, 10, 3);
const down = monday + 8 * dayMs + 14 * hourMs;

/** Between 95 and 105 around 100. */
const usual = (t: number) => 100 + (((t / 300_000) * 7919) % 11) - 5;

/** A flat series around 100 with a 30-minute outage to 0. */
const outage: Source = {
  name: 'shop.requests',
  dimensions: { host: 'web-1' },
  valueAt: (t) => (t >= down && t < down + 30 * minuteMs ? 0 : usual(t)),
};

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client' });

let scenario: Scenario | undefined;
/** The Publish requests SNS accepted, in order. */
let accepted: PublishCommandInput[];
let failing: boolean;

beforeEach(async () => {
  snsMock.reset();
  accepted = [];
  failing = false;
  snsMock.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    if (failing) throw throttling();
    accepted.push(input);
    return { MessageId: `m-${accepted.length}` };
  });
  scenario = await startScenario(monday, {
    notifier: new SnsNotifier({ topicArn, client: new SNSClient({ region: 'eu-west-1' }) }),
  });
  const perAlert = await scenario.server.request('/v1/rules/default', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'band', notify: 'alert' }),
  });
  if (perAlert.status !== 200) throw new Error(`the rule was refused: ${await perAlert.text()}`);
  await scenario.backfill([outage], monday, down - hourMs);
});

afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const transitionIds = (inputs: readonly PublishCommandInput[]) =>
  inputs.map((input) => input.MessageAttributes?.transitionId?.StringValue);

const current = () => {
  if (!scenario) throw new Error('no scenario');
  return scenario;
};

describe('SNS delivery under faults', () => {
  it('throttled for hours: both transitions wait, then go once each, OPEN first', async () => {
    const s = current();
    failing = true;
    // Longer than the page window: a transition held up by a failing notifier is news all the same.
    await s.live([outage], down - hourMs, down + 3 * hourMs);
    expect(accepted).toEqual([]);
    const attempts = snsMock.commandCalls(PublishCommand).length;
    expect(attempts).toBeGreaterThan(1);
    const { alerts } = await s.server.getJson<{
      alerts: { id: string; state: string; paged: boolean | null }[];
    }>(`/v1/alerts?from=${down}`);
    expect(alerts).toEqual([expect.objectContaining({ state: 'resolved', paged: null })]);
    const { transitions } = await s.server.getJson<{
      transitions: { kind: string; status: string; lastError: string | null; attempts: number }[];
    }>(`/v1/alerts/${alerts[0]?.id}`);
    expect(transitions.map((t) => [t.kind, t.status])).toEqual([
      ['OPEN', 'pending'],
      ['RESOLVED', 'pending'],
    ]);
    expect(transitions[0]?.lastError).toBe('Throttling: Rate exceeded');
    expect(transitions[0]?.attempts).toBeGreaterThan(1);
    // The RESOLVED was never tried before its OPEN went out.
    expect(transitions[1]?.attempts).toBe(0);

    failing = false;
    await s.live([outage], down + 3 * hourMs, down + 4 * hourMs);
    const id = alerts[0]?.id ?? '';
    expect(transitionIds(accepted)).toEqual([`${id}.open`, `${id}.resolved`]);
    expect(accepted.map((input) => input.MessageAttributes?.state?.StringValue)).toEqual([
      'OPEN',
      'RESOLVED',
    ]);
    expect(accepted[0]).toMatchObject({
      TopicArn: topicArn,
      MessageStructure: 'json',
      // The series swings between 95 and 105 around 100: the engine expects about 100 (its exact estimate is its own).
      Subject: expect.stringMatching(
        /^\[Normalcy\] OPEN critical shop\.requests\{host=web-1\}: 0 \(expected (99\.\d+|100(\.\d+)?)\)$/,
      ),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        metric: { DataType: 'String', StringValue: 'shop.requests' },
        rule: { DataType: 'String', StringValue: 'default' },
      },
    });
    const document = JSON.parse(JSON.parse(accepted[0]?.Message ?? '{}').default) as Notification & {
      time: string;
    };
    expect(document).toMatchObject({
      state: 'OPEN',
      alertId: id,
      value: 0,
      time: new Date(down).toISOString(),
    });
  });

  it('an alert that grows critical: OPEN, ESCALATED and RESOLVED wait out the throttling, then go once each', async () => {
    const s = current();
    // A p90 latency 18% over for 15 minutes (a warning), then doubled for 30 minutes (critical), then back.
    const latency: Source = {
      name: 'shop.latency.p90',
      dimensions: { host: 'web-1' },
      valueAt: (t) => {
        if (t >= down && t < down + 15 * minuteMs) return 118;
        if (t >= down && t < down + 45 * minuteMs) return 200;
        return usual(t);
      },
    };
    await s.backfill([latency], monday, down - hourMs);
    failing = true;
    await s.live([latency], down - hourMs, down + 3 * hourMs);
    expect(accepted).toEqual([]);
    failing = false;
    await s.live([latency], down + 3 * hourMs, down + 4 * hourMs);
    const id = accepted[0]?.MessageAttributes?.alertId?.StringValue ?? '';
    expect(transitionIds(accepted)).toEqual([`${id}.open`, `${id}.escalated`, `${id}.resolved`]);
    expect(
      accepted.map((input) => [
        input.MessageAttributes?.state?.StringValue,
        input.MessageAttributes?.severity?.StringValue,
      ]),
    ).toEqual([
      ['OPEN', 'warning'],
      ['ESCALATED', 'critical'],
      ['RESOLVED', 'critical'],
    ]);
    expect(accepted[1]?.Subject).toMatch(
      /^\[Normalcy\] CRITICAL shop\.latency\.p90\{host=web-1\}: 200 \(expected (99\.\d+|100(\.\d+)?)\)$/,
    );
    const escalated = JSON.parse(JSON.parse(accepted[1]?.Message ?? '{}').default) as { time: string };
    expect(escalated.time).toBe(new Date(down + 15 * minuteMs).toISOString());
    const { transitions } = await s.server.getJson<{ transitions: { kind: string; status: string }[] }>(
      `/v1/alerts/${id}`,
    );
    expect(transitions.map((t) => [t.kind, t.status])).toEqual([
      ['OPEN', 'sent'],
      ['ESCALATED', 'sent'],
      ['RESOLVED', 'sent'],
    ]);
    await s.live([latency], down + 4 * hourMs, down + 5 * hourMs);
    expect(accepted).toHaveLength(3);
  });

  it('a failure between OPEN and RESOLVED: the RESOLVED is retried until it goes, never twice', async () => {
    const s = current();
    await s.live([outage], down - hourMs, down + 10 * minuteMs);
    expect(accepted.map((input) => input.MessageAttributes?.state?.StringValue)).toEqual(['OPEN']);
    failing = true;
    await s.live([outage], down + 10 * minuteMs, down + hourMs);
    failing = false;
    await s.live([outage], down + hourMs, down + 3 * hourMs);
    const id = accepted[0]?.MessageAttributes?.alertId?.StringValue ?? '';
    expect(transitionIds(accepted)).toEqual([`${id}.open`, `${id}.resolved`]);
    expect(snsMock.commandCalls(PublishCommand).length).toBeGreaterThan(2);
  });

  it('two deliveries at once (overlapping runs) publish each transition once', async () => {
    const s = current();
    failing = true;
    await s.live([outage], down - hourMs, down + hourMs);
    failing = false;
    snsMock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      accepted.push(input);
      return { MessageId: `m-${accepted.length}` };
    });
    s.clock.time += 10 * minuteMs;
    const notifier = new SnsNotifier({ topicArn, client: new SNSClient({ region: 'eu-west-1' }) });
    const deliver = () =>
      deliverTransitions(
        { alerts: s.server.stores.alerts, notifier, clock: s.clock },
        { mutes: [], pageWindowMs: hourMs },
      );
    const [first, second] = await Promise.all([deliver(), deliver()]);
    expect(first.sent + second.sent).toBe(2);
    expect(transitionIds(accepted)).toHaveLength(2);
    expect(new Set(transitionIds(accepted)).size).toBe(2);
    const again = await deliver();
    expect(again.sent).toBe(0);
  });
});
