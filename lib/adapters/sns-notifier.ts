import {
  type MessageAttributeValue,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from '@aws-sdk/client-sns';
import type { IncidentNotification, Notification, Notifier } from '../ports/notifier.ts';
import { incidentDocument, incidentSubject, incidentText } from './incident-text.ts';
import { notificationDocument, notificationSubject, notificationText } from './notification-text.ts';

export interface SnsNotifierOptions {
  readonly topicArn: string;
  readonly client?: SNSClient;
}

/**
 * The Publish request for a notification: a readable Subject (under 100 characters); `MessageStructure: json`
 * with the JSON document as `default` (what SQS, Lambda, HTTPS and email-json subscribers get) and a plain-text
 * form under `email`; message attributes `severity`, `state`, `metric`, `rule`, `seriesId`, `alertId` and
 * `transitionId` for subscription filter policies and for deduplication by subscribers. On a FIFO topic the
 * transition id is also the deduplication id, and the alert id the message group (ordered per alert).
 */
export function publishInput(topicArn: string, notification: Notification): PublishCommandInput {
  const attribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const input: PublishCommandInput = {
    TopicArn: topicArn,
    Subject: notificationSubject(notification),
    MessageStructure: 'json',
    Message: JSON.stringify({
      default: JSON.stringify(notificationDocument(notification)),
      email: notificationText(notification),
    }),
    MessageAttributes: {
      severity: attribute(notification.severity),
      state: attribute(notification.state),
      metric: attribute(notification.name),
      rule: attribute(notification.rule.id),
      seriesId: attribute(notification.seriesId),
      alertId: attribute(notification.alertId),
      transitionId: attribute(notification.transitionId),
    },
  };
  if (topicArn.endsWith('.fifo')) {
    input.MessageGroupId = notification.alertId;
    input.MessageDeduplicationId = notification.transitionId;
  }
  return input;
}

/**
 * The Publish request for an incident notification, shaped as {@link publishInput}: the subject names the
 * origin and how many other members; the attributes are those of its origin (so filter policies on metric,
 * rule or series keep working) with `state` OPEN, UPDATE or RESOLVED, plus `incidentId`. On a FIFO topic the
 * incident is the message group.
 */
export function publishIncidentInput(
  topicArn: string,
  notification: IncidentNotification,
): PublishCommandInput {
  const attribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const { origin } = notification;
  const input: PublishCommandInput = {
    TopicArn: topicArn,
    Subject: incidentSubject(notification),
    MessageStructure: 'json',
    Message: JSON.stringify({
      default: JSON.stringify(incidentDocument(notification)),
      email: incidentText(notification),
    }),
    MessageAttributes: {
      severity: attribute(notification.severity),
      state: attribute(notification.state),
      metric: attribute(origin.name),
      seriesId: attribute(origin.seriesId),
      alertId: attribute(origin.alertId),
      incidentId: attribute(notification.incidentId),
      transitionId: attribute(notification.transitionId),
    },
  };
  if (topicArn.endsWith('.fifo')) {
    input.MessageGroupId = notification.incidentId;
    input.MessageDeduplicationId = notification.transitionId;
  }
  return input;
}

/** Publishes each notification to an SNS topic (see {@link publishInput}); a failed publish throws. */
export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;

  constructor(private readonly options: SnsNotifierOptions) {
    this.client = options.client ?? new SNSClient({});
  }

  async notify(notification: Notification): Promise<void> {
    await this.client.send(new PublishCommand(publishInput(this.options.topicArn, notification)));
  }

  async notifyIncident(notification: IncidentNotification): Promise<void> {
    await this.client.send(new PublishCommand(publishIncidentInput(this.options.topicArn, notification)));
  }
}
