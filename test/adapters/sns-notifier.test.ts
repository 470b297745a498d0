import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import type { Notification } from '../../lib/ports.ts';

const snsMock = mockClient(SNSClient);
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:alerts';

const notification = (
  name: string,
  dimensions: Record<string, string> = { host: 'web-1' },
): Notification => ({
  state: 'ANOMALOUS',
  severity: 'critical',
  seriesId: '0123456789abcdef',
  name,
  dimensions,
  band: {
    timestamp: 1764028800000,
    value: 950,
    expected: 70.04,
    lower: 40,
    upper: 100,
    score: 0.97,
    anomaly: true,
  },
});

beforeEach(() => snsMock.reset());

describe('SnsNotifier', () => {
  it('publishes a readable subject, the JSON message and the filterable attributes', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: '1' });
    await new SnsNotifier({ topicArn, client: new SNSClient({ region: 'eu-west-1' }) }).notify(
      notification('shop.login.time'),
    );
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TopicArn: topicArn,
      Subject: '[Normalcy] ANOMALOUS shop.login.time{host=web-1}: 950 (expected 70.04)',
      Message: expect.any(String),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        metric: { DataType: 'String', StringValue: 'shop.login.time' },
        state: { DataType: 'String', StringValue: 'ANOMALOUS' },
      },
    });
    expect(JSON.parse(input?.Message ?? '')).toEqual({
      state: 'ANOMALOUS',
      severity: 'critical',
      seriesId: '0123456789abcdef',
      name: 'shop.login.time',
      dimensions: { host: 'web-1' },
      time: '2025-11-25T00:00:00.000Z',
      value: 950,
      expected: 70.04,
      lower: 40,
      upper: 100,
      score: 0.97,
    });
  });

  it('keeps the subject under 100 printable ASCII characters for long or non-ASCII names', async () => {
    snsMock.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ topicArn, client: new SNSClient({ region: 'eu-west-1' }) });
    await notifier.notify(notification(`latency.${'x'.repeat(200)}`));
    await notifier.notify(notification('temps.été', { city: 'Zürich\nnewline' }));
    for (const call of snsMock.commandCalls(PublishCommand)) {
      const subject = call.args[0].input.Subject ?? '';
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
