import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import type { Notification } from '../../lib/ports/notifier.ts';

const snsMock = mockClient(SNSClient);
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:alerts';

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  transitionId: 'al_0123456789abcdef0123.open',
  alertId: 'al_0123456789abcdef0123',
  state: 'OPEN',
  severity: 'critical',
  rule: { id: 'default', name: 'Default band rule', kind: 'band' },
  seriesId: '0123456789abcdef',
  name: 'shop.login.time',
  dimensions: { host: 'web-1' },
  startedAt: 1764028500000,
  at: 1764028800000,
  value: 950,
  expected: 70.04,
  lower: 40,
  upper: 100,
  score: 0.97,
  threshold: null,
  reason: 'above its band for 10 min',
  link: 'https://dash.example.com/#/series/0123456789abcdef?alert=al_0123456789abcdef0123',
  ...overrides,
});

const client = () => new SNSClient({ region: 'eu-west-1' });

beforeEach(() => snsMock.reset());

describe('SnsNotifier', () => {
  it('publishes a subject, a JSON message with a plain-text email form and filterable attributes', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: '1' });
    await new SnsNotifier({ topicArn, client: client() }).notify(notification());
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TopicArn: topicArn,
      Subject: '[Normalcy] OPEN critical shop.login.time{host=web-1}: 950 (expected 70.04)',
      MessageStructure: 'json',
      Message: expect.any(String),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        state: { DataType: 'String', StringValue: 'OPEN' },
        metric: { DataType: 'String', StringValue: 'shop.login.time' },
        rule: { DataType: 'String', StringValue: 'default' },
        seriesId: { DataType: 'String', StringValue: '0123456789abcdef' },
        alertId: { DataType: 'String', StringValue: 'al_0123456789abcdef0123' },
        transitionId: { DataType: 'String', StringValue: 'al_0123456789abcdef0123.open' },
      },
    });
    const structure = JSON.parse(input?.Message ?? '') as Record<string, string>;
    expect(Object.keys(structure)).toEqual(['default', 'email']);
    expect(JSON.parse(structure.default ?? '')).toEqual({
      version: 1,
      state: 'OPEN',
      severity: 'critical',
      alertId: 'al_0123456789abcdef0123',
      transitionId: 'al_0123456789abcdef0123.open',
      rule: { id: 'default', name: 'Default band rule', kind: 'band' },
      seriesId: '0123456789abcdef',
      name: 'shop.login.time',
      dimensions: { host: 'web-1' },
      startedAt: '2025-11-24T23:55:00.000Z',
      time: '2025-11-25T00:00:00.000Z',
      value: 950,
      expected: 70.04,
      band: { lower: 40, upper: 100 },
      score: 0.97,
      threshold: null,
      reason: 'above its band for 10 min',
      explanation: null,
      link: 'https://dash.example.com/#/series/0123456789abcdef?alert=al_0123456789abcdef0123',
    });
    expect(structure.email).toBe(
      [
        'Alert: shop.login.time{host=web-1} above its band for 10 min.',
        '',
        'Severity:  critical',
        'Rule:      Default band rule (default, band)',
        'Started:   2025-11-24T23:55:00.000Z',
        'At:        2025-11-25T00:00:00.000Z',
        'Value:     950',
        'Expected:  70.04',
        'Band:      40 to 100',
        'Score:     0.97',
        '',
        'Dashboard: https://dash.example.com/#/series/0123456789abcdef?alert=al_0123456789abcdef0123',
        '',
        'Alert al_0123456789abcdef0123, notification al_0123456789abcdef0123.open',
        '',
      ].join('\n'),
    );
  });

  it('says RESOLVED, no-data and threshold alerts in their own words', async () => {
    snsMock.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ topicArn, client: client() });
    await notifier.notify(notification({ state: 'RESOLVED', value: 71, expected: 70 }));
    await notifier.notify(
      notification({
        rule: { id: 'silence', name: 'silence', kind: 'nodata' },
        severity: 'warning',
        value: null,
        expected: null,
        lower: null,
        upper: null,
        score: null,
        reason: 'no data for 10 min',
      }),
    );
    await notifier.notify(
      notification({ severity: 'warning', threshold: 500, expected: null, lower: null, upper: null }),
    );
    expect(snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.Subject)).toEqual([
      '[Normalcy] RESOLVED shop.login.time{host=web-1}: 71 (expected 70)',
      '[Normalcy] OPEN warning shop.login.time{host=web-1}: no data for 10 min',
      '[Normalcy] OPEN warning shop.login.time{host=web-1}: 950 (threshold 500)',
    ]);
  });

  it('says an escalation to critical in its own words: subject, attributes, document and email', async () => {
    snsMock.on(PublishCommand).resolves({});
    const escalated = notification({
      state: 'ESCALATED',
      transitionId: 'al_0123456789abcdef0123.escalated',
      reason: 'above its band for 35 min, 4.2 band half-widths from the expected value at worst',
    });
    await new SnsNotifier({ topicArn, client: client() }).notify(escalated);
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toBe('[Normalcy] CRITICAL shop.login.time{host=web-1}: 950 (expected 70.04)');
    expect(input?.MessageAttributes).toMatchObject({
      state: { DataType: 'String', StringValue: 'ESCALATED' },
      severity: { DataType: 'String', StringValue: 'critical' },
      transitionId: { DataType: 'String', StringValue: 'al_0123456789abcdef0123.escalated' },
    });
    const structure = JSON.parse(input?.Message ?? '') as Record<string, string>;
    expect(JSON.parse(structure.default ?? '')).toMatchObject({
      state: 'ESCALATED',
      severity: 'critical',
      transitionId: 'al_0123456789abcdef0123.escalated',
      reason: 'above its band for 35 min, 4.2 band half-widths from the expected value at worst',
    });
    expect(structure.email?.split('\n')[0]).toBe(
      'Now critical: shop.login.time{host=web-1} above its band for 35 min, 4.2 band half-widths from the ' +
        'expected value at worst.',
    );
    const long = notification({ state: 'ESCALATED', name: `latency.${'x'.repeat(200)}` });
    await new SnsNotifier({ topicArn, client: client() }).notify(long);
    const subject = snsMock.commandCalls(PublishCommand)[1]?.args[0].input.Subject ?? '';
    expect(subject).toMatch(/^\[Normalcy\] CRITICAL latency\.x+~$/);
    expect(subject.length).toBeLessThan(100);
  });

  it('keeps the subject under 100 printable ASCII characters for long or non-ASCII names', async () => {
    snsMock.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ topicArn, client: client() });
    await notifier.notify(notification({ name: `latency.${'x'.repeat(200)}` }));
    await notifier.notify(notification({ name: 'temps.été', dimensions: { city: 'Zürich\nnewline' } }));
    const subjects = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.Subject ?? '');
    expect(subjects).toHaveLength(2);
    for (const subject of subjects) {
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
    }
    expect(subjects[1]).toBe('[Normalcy] OPEN critical temps.?t?{city=Z?rich?newline}: 950 (expected 70.04)');
  });

  it('leads with the alert explained in one line: the email, the document, and the subject as far as it fits', async () => {
    snsMock.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ topicArn, client: client() });
    const explanation =
      'Tuesday 00:00 usually 70, now 950, 13.6 times the usual, for 10 min (29 band half-widths out; band 40 to 100)';
    await notifier.notify(notification({ name: 'login', dimensions: {}, explanation }));
    await notifier.notify(notification({ explanation }));
    await notifier.notify(notification({ name: `latency.${'x'.repeat(60)}`, explanation }));
    const inputs = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.Subject)).toEqual([
      // The whole line does not fit beside the series; its headline does, then only the value.
      '[Normalcy] OPEN critical login: Tuesday 00:00 usually 70, now 950, 13.6 times the usual, for 10 min',
      '[Normalcy] OPEN critical shop.login.time{host=web-1}: 950 (expected 70.04)',
      `[Normalcy] OPEN critical latency.${'x'.repeat(60)}{host~`,
    ]);
    const short = notification({
      name: 'login',
      dimensions: {},
      explanation: 'no data since 13:20 (45 min)',
    });
    await notifier.notify(short);
    expect(snsMock.commandCalls(PublishCommand)[3]?.args[0].input.Subject).toBe(
      '[Normalcy] OPEN critical login: no data since 13:20 (45 min)',
    );
    for (const input of inputs) expect(input.Subject?.length).toBeLessThan(100);
    const structure = JSON.parse(inputs[1]?.Message ?? '') as Record<string, string>;
    expect(JSON.parse(structure.default ?? '')).toMatchObject({ explanation });
    expect(structure.email?.split('\n').slice(0, 2)).toEqual([
      explanation,
      'Alert: shop.login.time{host=web-1} above its band for 10 min.',
    ]);
  });

  it('on a FIFO topic deduplicates by transition and orders by alert', async () => {
    snsMock.on(PublishCommand).resolves({});
    const fifoArn = 'arn:aws:sns:eu-west-1:123456789012:alerts.fifo';
    await new SnsNotifier({ topicArn: fifoArn, client: client() }).notify(notification());
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageDeduplicationId).toBe('al_0123456789abcdef0123.open');
    expect(input?.MessageGroupId).toBe('al_0123456789abcdef0123');
  });

  it('throws when SNS refuses, so the transition stays pending', async () => {
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(new SnsNotifier({ topicArn, client: client() }).notify(notification())).rejects.toThrow(
      'Rate exceeded',
    );
  });
});
