import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Incident,
  type IncidentState,
  type IncidentTransition,
  incidentListingOrder,
  incidentStates,
  incidentTransitionRank,
  leavesBoard,
} from '../alerts/incidents.ts';
import type {
  IncidentBoard,
  IncidentBoardChange,
  IncidentQuery,
  IncidentStore,
} from '../ports/incident-store.ts';
import { isConditionFailure, outbox, queryAll } from './dynamodb-documents.ts';
import { alertsByStateIndex, incidentItemPrefix, pendingTransitionsIndex } from './schema.ts';

export interface DynamoDbIncidentStoreOptions {
  /** The alert table (incidents live beside the alerts, under their own key prefixes). */
  readonly table: string;
  readonly client?: DynamoDBClient;
}

/** The pending-transitions index partition of incident transitions (alert transitions use `P`). */
const pendingMark = 'I';
const boardKey = { pk: `${incidentItemPrefix}BOARD`, sk: 'BOARD' };
const incidentKey = (id: string) => ({ pk: `${incidentItemPrefix}${id}`, sk: 'INCIDENT' });
const transitionKey = (id: string) => ({
  // A transition id is `<incidentId>.<kind>...` and incident ids hold no dot.
  pk: `${incidentItemPrefix}${id.slice(0, id.indexOf('.'))}`,
  sk: `TRANSITION#${id}`,
});
/** The alerts-by-state index partition of incidents: never one of the alert states. */
const stateMark = (state: IncidentState) => `${incidentItemPrefix}${state}`;

const deliverOrder = (transition: IncidentTransition): string =>
  `${String(transition.at).padStart(16, '0')}#${incidentTransitionRank[transition.kind]}#${transition.id}`;

interface BoardItem {
  version: number;
  /** The open incidents, whole (JSON). */
  incidents: string;
  /** The last change, until it is written out as items (JSON): see {@link DynamoDbIncidentStore}. */
  unwritten?: string;
}

interface IncidentItem {
  body: string;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
}

interface TransitionItem {
  body: string;
  status: IncidentTransition['status'];
  reason?: string | null;
  attempts: number;
  lastError?: string | null;
  deliverAfter: number;
  decidedAt?: number | null;
}

/**
 * Incidents in the alert table, under the prefix `INCIDENT#`, without transactions (one conditional write is
 * the unit): the board is one item (`INCIDENT#BOARD`) holding the open incidents whole and a version, replaced
 * only if its version is unchanged. A change is first saved in the board as `unwritten`, then written out as
 * items (each incident in `INCIDENT#<id>`, its transitions beside it, put only if absent), then cleared: a run
 * that stops half-way leaves it in the board, and the next load or commit writes it out again (every write is
 * idempotent). Incidents are listed through the alerts-by-state index (partition `INCIDENT#open` or
 * `INCIDENT#resolved`); their pending transitions are the partition `I` of the pending-transitions index.
 * No new table or index, and no transaction (so no permission beyond the alert table's item actions).
 *
 * The board holds only open incidents (a resolved one leaves it once its RESOLVED is recorded): an incident
 * of a few members is 1 to 3 KB, so some hundred open at once fit the 400 KB item limit with room to spare.
 */
export class DynamoDbIncidentStore implements IncidentStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbIncidentStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async loadBoard(): Promise<IncidentBoard> {
    const board = await this.readBoard();
    if (!board) return { incidents: [], version: 0 };
    if (board.unwritten)
      await this.writeOut(JSON.parse(board.unwritten) as IncidentBoardChange, board.version);
    return { incidents: JSON.parse(board.incidents) as Incident[], version: board.version };
  }

  async commitBoard(version: number, change: IncidentBoardChange): Promise<'committed' | 'conflict'> {
    const board = await this.readBoard();
    if ((board?.version ?? 0) !== version) return 'conflict';
    // What the previous commit may not have written out goes first: the board is about to forget it.
    if (board?.unwritten) await this.writeOut(JSON.parse(board.unwritten) as IncidentBoardChange, version);
    const open = new Map((board ? (JSON.parse(board.incidents) as Incident[]) : []).map((i) => [i.id, i]));
    for (const incident of change.incidents) {
      if (leavesBoard(incident)) open.delete(incident.id);
      else open.set(incident.id, incident);
    }
    const next = version + 1;
    const saved = await this.replaceBoard(version, {
      version: next,
      incidents: JSON.stringify([...open.values()]),
      unwritten: JSON.stringify(change),
    });
    if (!saved) return 'conflict';
    await this.writeOut(change, next);
    // Clearing is only tidying: a run that saved meanwhile has written this change out too.
    await this.replaceBoard(next, { version: next + 1, incidents: JSON.stringify([...open.values()]) });
    return 'committed';
  }

  async pendingIncidentTransitions(limit: number): Promise<IncidentTransition[]> {
    const items = await this.queryAll<TransitionItem>(
      outbox.pending(pendingTransitionsIndex, pendingMark),
      limit,
    );
    return items.map(toTransition);
  }

  async claimIncidentTransition(id: string, leaseUntil: number, now: number): Promise<boolean> {
    return this.ifCondition(outbox.claim(this.options.table, transitionKey(id), leaseUntil, now));
  }

  async finishIncidentTransition(
    id: string,
    outcome: { status: 'sent' | 'suppressed'; at: number; reason: string | null },
  ): Promise<void> {
    await this.ifCondition(outbox.finish(this.options.table, transitionKey(id), outcome));
  }

  async deferIncidentTransition(id: string, deliverAfter: number, error: string | null): Promise<void> {
    await this.ifCondition(outbox.defer(this.options.table, transitionKey(id), deliverAfter, error));
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: incidentKey(id) }),
    );
    return Item ? toIncident(Item as IncidentItem) : undefined;
  }

  /**
   * Queries of the alerts-by-state index, per state, newest first, merged (as the alert store lists alerts:
   * incidents that started at the cursor's instant, or at a page's last instant, are read whole and ordered
   * here, since the index cannot order them by id).
   */
  async listIncidents(query: IncidentQuery): Promise<Incident[]> {
    const { after } = query;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const byId = new Map<string, Incident>();
    for (const state of query.state ? [query.state] : incidentStates) {
      const stateQuery = (keyCondition: string, values: Record<string, unknown>) => ({
        IndexName: alertsByStateIndex,
        KeyConditionExpression: `alertState = :state AND ${keyCondition}`,
        ...(query.from !== undefined && {
          FilterExpression: 'attribute_not_exists(resolvedAt) OR resolvedAt >= :from',
        }),
        ExpressionAttributeValues: {
          ':state': stateMark(state),
          ...values,
          ...(query.from !== undefined && { ':from': query.from }),
        },
        ScanIndexForward: false,
      });
      const startedAt = (instant: number) =>
        this.queryAll<IncidentItem>(stateQuery('startedAt = :at', { ':at': instant }));
      const found: Incident[] = [];
      if (after && after.startedAt < to) {
        found.push(...(await startedAt(after.startedAt)).map(toIncident).filter((i) => i.id > after.id));
      }
      const older = await this.queryAll<IncidentItem>(
        stateQuery('startedAt < :to', { ':to': after ? Math.min(to, after.startedAt) : to }),
        query.limit,
      );
      found.push(...older.map(toIncident));
      const last = older.at(-1);
      if (last && older.length >= query.limit) {
        found.push(...(await startedAt(toIncident(last).startedAt)).map(toIncident));
      }
      for (const incident of found) byId.set(incident.id, incident);
    }
    return [...byId.values()].sort(incidentListingOrder).slice(0, query.limit);
  }

  async incidentTransitionsOf(incidentId: string): Promise<IncidentTransition[]> {
    const items = await this.queryAll<TransitionItem>({
      KeyConditionExpression: 'pk = :incident AND begins_with(sk, :transition)',
      ExpressionAttributeValues: { ':incident': incidentKey(incidentId).pk, ':transition': 'TRANSITION#' },
    });
    return items.map(toTransition).sort((a, b) => deliverOrder(a).localeCompare(deliverOrder(b)));
  }

  async acknowledgeIncident(id: string, by: string, at: number): Promise<Incident | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: incidentKey(id),
          UpdateExpression:
            'SET acknowledgedAt = if_not_exists(acknowledgedAt, :at), acknowledgedBy = if_not_exists(acknowledgedBy, :by)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at, ':by': by },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toIncident(Attributes as IncidentItem) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  private async readBoard(): Promise<BoardItem | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: boardKey, ConsistentRead: true }),
    );
    return Item as BoardItem | undefined;
  }

  /** Replaces the board if it is still at `version`; false when another run replaced it first. */
  private async replaceBoard(version: number, item: BoardItem): Promise<boolean> {
    return this.ifCondition(
      new PutCommand({
        TableName: this.options.table,
        Item: { ...boardKey, ...item },
        ...(version === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'version = :version',
              ExpressionAttributeValues: { ':version': version },
            }),
      }),
    );
  }

  /**
   * Writes a change out as items: each incident unless a later board version wrote it already (its
   * acknowledgement is kept), each transition unless recorded already.
   */
  private async writeOut(change: IncidentBoardChange, boardVersion: number): Promise<void> {
    for (const transition of change.transitions) {
      await this.ifCondition(
        new PutCommand({
          TableName: this.options.table,
          Item: {
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
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    }
    for (const incident of change.incidents) {
      const resolved = incident.resolvedAt !== null;
      await this.ifCondition(
        new UpdateCommand({
          TableName: this.options.table,
          Key: incidentKey(incident.id),
          UpdateExpression: `SET alertState = :state, startedAt = :started, boardVersion = :version, body = :body${
            resolved ? ', resolvedAt = :resolved' : ' REMOVE resolvedAt'
          }`,
          ConditionExpression: 'attribute_not_exists(boardVersion) OR boardVersion <= :version',
          ExpressionAttributeValues: {
            ':state': stateMark(incident.state),
            ':started': incident.startedAt,
            ':version': boardVersion,
            ':body': JSON.stringify(incident),
            ...(resolved && { ':resolved': incident.resolvedAt }),
          },
        }),
      );
    }
  }

  /** Sends a conditional write; false when its condition failed. */
  private async ifCondition(command: PutCommand | UpdateCommand): Promise<boolean> {
    try {
      await this.documents.send(command as UpdateCommand);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private queryAll<T>(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<T[]> {
    return queryAll<T>(this.documents, this.options.table, input, limit);
  }
}

const toIncident = (item: IncidentItem): Incident => ({
  ...(JSON.parse(item.body) as Incident),
  acknowledgedAt: item.acknowledgedAt ?? null,
  acknowledgedBy: item.acknowledgedBy ?? null,
});

const toTransition = (item: TransitionItem): IncidentTransition => ({
  ...(JSON.parse(item.body) as IncidentTransition),
  status: item.status,
  reason: item.reason ?? null,
  attempts: item.attempts,
  lastError: item.lastError ?? null,
  deliverAfter: item.deliverAfter,
  decidedAt: item.decidedAt ?? null,
});
