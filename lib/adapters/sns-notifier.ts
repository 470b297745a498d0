import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '../ports.ts';
import { notificationMessage, notificationSubject } from './notification-text.ts';

export interface SnsNotifierOptions {
  readonly topicArn: string;
  readonly client?: SNSClient;
}

/**
 * Publishes each notification to an SNS topic: a readable Subject (under 100 characters), the JSON message,
 * and message attributes `severity`, `metric` and `state` for subscription filter policies.
 */
export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;

  constructor(private readonly options: SnsNotifierOptions) {
    this.client = options.client ?? new SNSClient({});
  }

  async notify(notification: Notification): Promise<void> {
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: notificationSubject(notification),
        Message: JSON.stringify(notificationMessage(notification)),
        MessageAttributes: {
          severity: attribute(notification.severity),
          metric: attribute(notification.name),
          state: attribute(notification.state),
        },
      }),
    );
  }
}
