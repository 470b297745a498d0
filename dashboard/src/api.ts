import type { IncidentEventKind, IncidentState } from '../../lib/alerts/incidents.ts';
import type { Rule, Severity, Alert as StoredAlert } from '../../lib/alerts/model.ts';
import type { ReplayedAlert, ReplayedTransition } from '../../lib/alerts/replay.ts';
import type { AlertFeedbackMark, Feedback } from '../../lib/feedback/model.ts';
import type { AnomalyView, PointsResponse, SeriesView } from '../../lib/query/read.ts';

export type { AnomalyView, Feedback, PointsResponse, ReplayedAlert, ReplayedTransition, Rule, SeriesView };

/** An alert as the API shows it: with the "this was normal" that holds on it (`feedback`), or null. */
export type Alert = StoredAlert & { readonly feedback?: AlertFeedbackMark | null };

/** One alert of an incident, as `GET /v1/incidents` shows it (docs/openapi.yaml, IncidentMember). */
export interface IncidentMemberView {
  readonly alertId: string;
  readonly ruleId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly severity: Severity;
  readonly state: 'open' | 'resolved';
  readonly startedAt: number;
  readonly openedAt: number;
  readonly resolvedAt: number | null;
  readonly joinedAt: number;
  readonly reason: string;
  readonly link: string;
}

/** An incident as `GET /v1/incidents` lists it: its members, the origin first. */
export interface IncidentView {
  readonly id: string;
  readonly state: IncidentState;
  readonly severity: Severity;
  readonly startedAt: number;
  readonly resolvedAt: number | null;
  readonly originAlertId: string;
  readonly tiedBy: readonly string[];
  readonly memberCount: number;
  readonly members: readonly IncidentMemberView[];
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
}

/** One line of an incident's timeline. */
export interface IncidentTimelineEvent {
  readonly at: number;
  readonly kind: IncidentEventKind | 'acknowledged';
  readonly alertId: string | null;
  readonly detail: string;
}

/** An incident with its timeline, as `GET /v1/incidents/{id}` and its acknowledgement give it. */
export interface IncidentDetail extends IncidentView {
  readonly timeline: readonly IncidentTimelineEvent[];
}

/** `GET /v1/incidents`. */
export interface IncidentPageResponse {
  readonly incidents: IncidentView[];
  readonly nextCursor: string | null;
}

/** `POST /v1/series/{id}/replay`: what a rule would have paged on a series. */
export interface ReplayResponse {
  readonly rule: Rule;
  readonly draft: boolean;
  readonly applies: boolean;
  readonly note: string | null;
  readonly from: number;
  readonly to: number;
  readonly buckets: number;
  readonly bandedBuckets: number;
  readonly alertCount: number;
  readonly pagedCount: number;
  readonly alerts: ReplayedAlert[];
}

/** `GET /v1/alerts`. */
export interface AlertPageResponse {
  readonly alerts: Alert[];
  readonly limit: number;
}

export interface SeriesPageResponse {
  readonly series: SeriesView[];
  readonly nextCursor: string | null;
}

export interface AnomalyPageResponse {
  readonly from: number;
  readonly to: number;
  readonly anomalies: AnomalyView[];
  readonly nextCursor: string | null;
}

/** An answer of the API other than 2xx, with the API's own explanation. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the API said is wrong, field by field (a 400's `problems`). */
    readonly problems: readonly { readonly field: string; readonly message: string }[] = [],
  ) {
    super(message);
  }

  /** Whether the key, not the request, is the problem (so the dashboard asks for another). */
  get isKeyProblem(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export type QueryValue = string | number | boolean | undefined;

/** Calls the API with a key, turning error bodies into ApiErrors. */
export class ApiClient {
  constructor(
    private readonly key: string,
    private readonly base = '',
  ) {}

  get<T>(path: string, query: Record<string, QueryValue> = {}): Promise<T> {
    return this.send<T>('GET', path, query);
  }

  /** POSTs without a body (the API's actions, such as acknowledging an alert), or with a JSON one. */
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('POST', path, {}, body);
  }

  /** DELETEs a resource (withdrawing feedback). */
  delete<T>(path: string): Promise<T> {
    return this.send<T>('DELETE', path, {});
  }

  private async send<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    query: Record<string, QueryValue>,
    body?: unknown,
  ): Promise<T> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) search.set(name, String(value));
    const text = search.toString();
    const url = `${this.base}${path}${text === '' ? '' : `?${text}`}`;
    let response: Response;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, 'unreachable', `Normalcy did not answer (${(error as Error).message})`);
    }
    if (response.ok) return (await response.json()) as T;
    let code = 'error';
    let message = `${response.status} ${response.statusText}`;
    let problems: ApiError['problems'] = [];
    try {
      const body = (await response.json()) as {
        error?: { code?: string; message?: string; problems?: ApiError['problems'] };
      };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
      problems = body.error?.problems ?? [];
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(response.status, code, message, problems);
  }

  /** Every page of a cursor-paged list, up to `maxPages`. */
  async all<T, P extends { nextCursor: string | null }>(
    path: string,
    query: Record<string, QueryValue>,
    items: (page: P) => T[],
    maxPages = 10,
  ): Promise<T[]> {
    const collected: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await this.get<P>(path, { ...query, cursor });
      collected.push(...items(answer));
      if (!answer.nextCursor) break;
      cursor = answer.nextCursor;
    }
    return collected;
  }
}

const keyItem = 'normalcy.readKey';

/** The read key kept in this browser, if any. */
export const savedKey = (): string | undefined => localStorage.getItem(keyItem) ?? undefined;
export const saveKey = (key: string): void => localStorage.setItem(keyItem, key);
export const forgetKey = (): void => localStorage.removeItem(keyItem);
