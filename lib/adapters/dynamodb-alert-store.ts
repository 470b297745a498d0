import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Alert,
  type AlertState,
  type AlertTransition,
  alertStates,
  type EvaluationOutcome,
  type Exclusion,
  type Mute,
  type Rule,
  type SeriesMonitor,
  transitionRank,
  withdrawnExclusionKeptMs,
} from '../alerts/model.ts';
import { type AlertConfig, storedConfig } from '../alerts/rules.ts';
import {
  type AlertQuery,
  type AlertStore,
  alertListingOrder,
  type CommitResult,
  type MonitorSnapshot,
} from '../ports/alert-store.ts';
import { isConditionFailure, outbox, queryAll } from './dynamodb-documents.ts';
import { alertsByStateIndex, pendingTransitionsIndex } from './schema.ts';

export interface DynamoDbAlertStoreOptions {
  readonly table: string;
  readonly client?: DynamoDBClient;
}

const pendingMark = 'P';
const configKey = 'CONFIG';
const configPrefix = { rule: 'RULE#', mute: 'MUTE#', exclusion: 'EXCLUSION#' } as const;
type ConfigKind = keyof typeof configPrefix;

interface AlertItem {
  pk: string;
  sk: 'ALERT';
  alertState: AlertState;
  /** Set since `GET /v1/alerts?series=`: what its filter reads. */
  seriesId?: string;
  startedAt: number;
  resolvedAt?: number;
  body: string;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  paged?: boolean;
}

interface TransitionItem {
  pk: string;
  sk: string;
  body: string;
  status: AlertTransition['status'];
  reason?: string | null;
  attempts: number;
  lastError?: string | null;
  deliverAfter: number;
  decidedAt?: number | null;
  claimedUntil?: number;
  pendingShard?: string;
  deliverOrder: string;
}

const alertKey = (id: string) => ({ pk: `ALERT#${id}`, sk: 'ALERT' });
const transitionKey = (id: string) => ({
  // A transition id is `<alertId>.<kind>...` and alert ids hold no dot: it lives in its alert's partition.
  pk: `ALERT#${id.slice(0, id.indexOf('.'))}`,
  sk: `TRANSITION#${id}`,
});
const monitorKey = (seriesId: string) => ({ pk: `MONITOR#${seriesId}`, sk: 'MONITOR' });

/** Sorts by time, then OPEN, ESCALATED, REMINDER, RESOLVED (times are padded so text order is time order). */
const deliverOrder = (transition: AlertTransition): string =>
  `${String(transition.at).padStart(16, '0')}#${transitionRank[transition.kind]}#${transition.id}`;

/**
 * The alert store in one DynamoDB table (`pk`, `sk`) of its own: rules, mutes and exclusions in partition
 * `CONFIG`; one monitor item per series (`MONITOR#<seriesId>`, written only if its `version` is unchanged);
 * each alert and its transitions in partition `ALERT#<alertId>`. Transitions are put only if absent, so a
 * second run recording the same transition changes nothing; the sparse index `pendingTransitions` is the
 * outbox the band job delivers from.
 */
export class DynamoDbAlertStore implements AlertStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbAlertStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async loadConfig(): Promise<AlertConfig> {
    const items = await this.queryAll<{ sk: string; record: unknown }>({
      KeyConditionExpression: 'pk = :config',
      ExpressionAttributeValues: { ':config': configKey },
    });
    const of = <T>(kind: ConfigKind) =>
      items.filter((item) => item.sk.startsWith(configPrefix[kind])).map((item) => item.record as T);
    return storedConfig(of<Rule>('rule'), of<Mute>('mute'), of<Exclusion>('exclusion'));
  }

  putRule = (rule: Rule) => this.putConfig('rule', rule.id, rule);
  deleteRule = (id: string) => this.deleteConfig('rule', id);
  putMute = (mute: Mute) => this.putConfig('mute', mute.id, mute);
  deleteMute = (id: string) => this.deleteConfig('mute', id);
  putExclusion = (exclusion: Exclusion) => this.putConfig('exclusion', exclusion.id, exclusion);

  async deleteExclusion(id: string, at: number): Promise<boolean> {
    const { withdrawnExclusions = [] } = await this.loadConfig();
    for (const old of withdrawnExclusions) {
      if ((old.deletedAt ?? at) < at - withdrawnExclusionKeptMs) await this.deleteConfig('exclusion', old.id);
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: configKey, sk: `${configPrefix.exclusion}${id}` },
          UpdateExpression: 'SET #record.deletedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#record.deletedAt)',
          ExpressionAttributeNames: { '#record': 'record' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async loadMonitor(seriesId: string): Promise<MonitorSnapshot> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: monitorKey(seriesId), ConsistentRead: true }),
    );
    if (!Item) return { monitor: undefined, version: 0 };
    return { monitor: JSON.parse(Item.monitor as string) as SeriesMonitor, version: Item.version as number };
  }

  async commitEvaluation(
    seriesId: string,
    version: number,
    outcome: EvaluationOutcome,
  ): Promise<CommitResult> {
    await this.recordEvaluation(outcome);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.options.table,
          Item: { ...monitorKey(seriesId), version: version + 1, monitor: JSON.stringify(outcome.monitor) },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :version',
                ExpressionAttributeValues: { ':version': version },
              }),
        }),
      );
      return 'committed';
    } catch (error) {
      if (isConditionFailure(error)) return 'conflict';
      throw error;
    }
  }

  async recordEvaluation(outcome: EvaluationOutcome): Promise<void> {
    for (const transition of outcome.transitions) await this.recordTransition(transition);
    for (const alert of outcome.alerts) await this.saveAlert(alert, outcome.asOf);
  }

  async pendingTransitions(limit: number): Promise<AlertTransition[]> {
    const items = await this.queryAll<TransitionItem>(
      outbox.pending(pendingTransitionsIndex, pendingMark),
      limit,
    );
    return items.map(toTransition);
  }

  async claimTransition(id: string, leaseUntil: number, now: number): Promise<boolean> {
    try {
      await this.documents.send(outbox.claim(this.options.table, transitionKey(id), leaseUntil, now));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async finishTransition(
    transition: AlertTransition,
    outcome: { status: 'sent' | 'suppressed'; at: number; reason: string | null },
  ): Promise<void> {
    await this.ifPending(outbox.finish(this.options.table, transitionKey(transition.id), outcome));
    if (transition.kind === 'OPEN') {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: alertKey(transition.alertId),
          UpdateExpression: 'SET paged = :paged',
          ExpressionAttributeValues: { ':paged': outcome.status === 'sent' },
        }),
      );
    }
  }

  async deferTransition(id: string, deliverAfter: number, error: string | null): Promise<void> {
    await this.ifPending(outbox.defer(this.options.table, transitionKey(id), deliverAfter, error));
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: alertKey(id) }),
    );
    return Item ? toAlert(Item as AlertItem) : undefined;
  }

  /**
   * Queries of the alerts-by-state index, per state, newest first, merged. DynamoDB can neither filter on the
   * index's sort key (startedAt) nor order alerts that started at the same instant by id, so alerts that
   * started at the cursor's instant, or at a page's last instant, are read whole and ordered here.
   */
  async listAlerts(query: AlertQuery): Promise<Alert[]> {
    const { after } = query;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const filters = [
      ...(query.from !== undefined ? ['(attribute_not_exists(resolvedAt) OR resolvedAt >= :from)'] : []),
      ...(query.seriesId !== undefined ? ['seriesId = :series'] : []),
    ];
    const byId = new Map<string, Alert>();
    for (const state of query.state ? [query.state] : alertStates) {
      const stateQuery = (keyCondition: string, values: Record<string, unknown>) => ({
        IndexName: alertsByStateIndex,
        KeyConditionExpression: `alertState = :state AND ${keyCondition}`,
        ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
        ExpressionAttributeValues: {
          ':state': state,
          ...values,
          ...(query.from !== undefined && { ':from': query.from }),
          ...(query.seriesId !== undefined && { ':series': query.seriesId }),
        },
        ScanIndexForward: false,
      });
      const startedAt = (instant: number) =>
        this.queryAll<AlertItem>(stateQuery('startedAt = :at', { ':at': instant }));
      const alerts: Alert[] = [];
      if (after && after.startedAt < to) {
        alerts.push(
          ...(await startedAt(after.startedAt)).map(toAlert).filter((alert) => alert.id > after.id),
        );
      }
      const older = await this.queryAll<AlertItem>(
        stateQuery('startedAt < :to', { ':to': after ? Math.min(to, after.startedAt) : to }),
        query.limit,
      );
      alerts.push(...older.map(toAlert));
      const last = older.at(-1);
      if (last && older.length >= query.limit) alerts.push(...(await startedAt(last.startedAt)).map(toAlert));
      for (const alert of alerts) byId.set(alert.id, alert);
    }
    return [...byId.values()].sort(alertListingOrder).slice(0, query.limit);
  }

  async transitionsOf(alertId: string): Promise<AlertTransition[]> {
    const items = await this.queryAll<TransitionItem>({
      KeyConditionExpression: 'pk = :alert AND begins_with(sk, :transition)',
      ExpressionAttributeValues: { ':alert': alertKey(alertId).pk, ':transition': 'TRANSITION#' },
    });
    return items.map(toTransition).sort((a, b) => deliverOrder(a).localeCompare(deliverOrder(b)));
  }

  async acknowledgeAlert(id: string, by: string, at: number): Promise<Alert | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: alertKey(id),
          UpdateExpression:
            'SET acknowledgedAt = if_not_exists(acknowledgedAt, :at), acknowledgedBy = if_not_exists(acknowledgedBy, :by)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at, ':by': by },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toAlert(Attributes as AlertItem) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Puts a transition unless one with its id is recorded already (then the first one stands). */
  private async recordTransition(transition: AlertTransition): Promise<void> {
    const item: TransitionItem = {
      ...transitionKey(transition.id),
      body: JSON.stringify(transition),
      status: transition.status,
      reason: transition.reason,
      attempts: transition.attempts,
      lastError: transition.lastError,
      deliverAfter: transition.deliverAfter,
      decidedAt: transition.decidedAt,
      deliverOrder: deliverOrder(transition),
      ...(transition.status === 'pending' && { pendingShard: pendingMark }),
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.options.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Writes what the evaluator knows about an alert, leaving acknowledgement and paging as they are, unless a
   * later evaluation wrote it already (then the later one stands).
   */
  private async saveAlert(alert: Alert, asOf: number): Promise<void> {
    const resolved = alert.resolvedAt !== null;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: alertKey(alert.id),
          UpdateExpression: `SET alertState = :state, seriesId = :series, startedAt = :started, asOf = :asOf, body = :body${
            resolved ? ', resolvedAt = :resolved' : ''
          }${resolved ? '' : ' REMOVE resolvedAt'}`,
          ConditionExpression: 'attribute_not_exists(asOf) OR asOf <= :asOf',
          ExpressionAttributeValues: {
            ':state': alert.state,
            ':series': alert.seriesId,
            ':started': alert.startedAt,
            ':asOf': asOf,
            ':body': JSON.stringify(alert),
            ...(resolved && { ':resolved': alert.resolvedAt }),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async putConfig(kind: ConfigKind, id: string, record: Rule | Mute | Exclusion): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.options.table,
        Item: { pk: configKey, sk: `${configPrefix[kind]}${id}`, record },
      }),
    );
  }

  private async deleteConfig(kind: ConfigKind, id: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.options.table,
        Key: { pk: configKey, sk: `${configPrefix[kind]}${id}` },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  /** Runs an update that only applies to a pending transition; one that was finished meanwhile is left alone. */
  private async ifPending(command: UpdateCommand): Promise<void> {
    try {
      await this.documents.send(command);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private queryAll<T>(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<T[]> {
    return queryAll<T>(this.documents, this.options.table, input, limit);
  }
}

const toAlert = (item: AlertItem): Alert => ({
  ...(JSON.parse(item.body) as Alert),
  acknowledgedAt: item.acknowledgedAt ?? null,
  acknowledgedBy: item.acknowledgedBy ?? null,
  paged: item.paged ?? null,
});

const toTransition = (item: TransitionItem): AlertTransition => ({
  ...(JSON.parse(item.body) as AlertTransition),
  status: item.status,
  reason: item.reason ?? null,
  attempts: item.attempts,
  lastError: item.lastError ?? null,
  deliverAfter: item.deliverAfter,
  decidedAt: item.decidedAt ?? null,
});
