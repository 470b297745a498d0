/**
 * A request the soak sends and how its answer is judged: which points it acknowledges (2xx, less what the
 * answer lists in `problems`) and which answers break a promise (a 5xx, a good item refused, a bad one kept,
 * an `accepted` count that does not match the items the answer did not list).
 */
import type { Answer, Findings, RequestSpec, SoakClient } from './client.ts';
import type { Ledger, SentPoint } from './ledger.ts';

/** One native JSON item: the good points it carries by pair (undefined where a pair is bad). */
export interface NativeItem {
  readonly text: string;
  /** A single item with something wrong in it (refused whole). */
  readonly bad: boolean;
  /** A bulk item (`points`), whose problems name pairs. */
  readonly bulk: boolean;
  readonly pairs: readonly (SentPoint | undefined)[];
}

export type Plan =
  | { readonly format: 'native'; readonly items: readonly NativeItem[] }
  /** Influx line protocol: the good point of each line, undefined for a line that must be refused. */
  | { readonly format: 'influx'; readonly lines: readonly (SentPoint | undefined)[] }
  | { readonly format: 'otlp'; readonly points: readonly SentPoint[] }
  /** A request that must be refused whole, with one of these statuses. */
  | { readonly format: 'refused'; readonly statuses: readonly number[] }
  /** A read or an admin call: must succeed. */
  | { readonly format: 'succeed' };

export interface PlannedRequest {
  readonly kind: string;
  readonly spec: RequestSpec;
  readonly plan: Plan;
}

export interface Judge {
  readonly client: SoakClient;
  readonly ledger: Ledger;
  readonly findings: Findings;
  /** When retries stop (moved at the end of the load). */
  readonly giveUpAt: () => number;
}

/** The native JSON body of items. */
export const nativeBody = (items: readonly NativeItem[]): string =>
  `{"metrics":[${items.map((item) => item.text).join(',')}]}`;

/** Sends a planned request, retrying as an agent does, and judges its final answer. */
export async function sendPlanned(judge: Judge, request: PlannedRequest): Promise<Answer | undefined> {
  const points = goodPoints(request.plan);
  const stats = judge.client.statsOf(request.kind);
  stats.pointsSent += points.length;
  judge.ledger.sending(points);
  const answer = await judge.client.send(request.kind, request.spec, { giveUpAt: judge.giveUpAt });
  if (!answer) return undefined;
  const label = `${request.kind} ${request.spec.method} ${request.spec.path}`;
  if (answer.status >= 500) {
    judge.findings.breach('5xx answer', `${label}: ${answer.status} ${answer.text}`);
    return answer;
  }
  const accepted = acknowledgedBy(judge, request, answer, label);
  if (accepted) {
    const kept = new Set(accepted);
    judge.ledger.settle(
      accepted,
      points.filter((sent) => !kept.has(sent)),
    );
    stats.pointsAcknowledged += accepted.length;
  } else if (answer.status < 500) {
    judge.ledger.settle([], points);
  }
  return answer;
}

function goodPoints(plan: Plan): SentPoint[] {
  switch (plan.format) {
    case 'native':
      return plan.items.flatMap((item) => item.pairs.filter((pair): pair is SentPoint => pair !== undefined));
    case 'influx':
      return plan.lines.filter((line): line is SentPoint => line !== undefined);
    case 'otlp':
      return [...plan.points];
    default:
      return [];
  }
}

interface Problem {
  readonly index: number;
  readonly field: string;
  readonly message: string;
}

/** The points an answer acknowledges, undefined when it acknowledges none; records what breaks a promise. */
function acknowledgedBy(
  judge: Judge,
  request: PlannedRequest,
  answer: Answer,
  label: string,
): SentPoint[] | undefined {
  const { plan } = request;
  const { findings } = judge;
  const body = (answer.json ?? {}) as {
    accepted?: number;
    rejected?: number;
    problems?: Problem[];
    partialSuccess?: { rejectedDataPoints?: string | number };
  };
  const ok = answer.status >= 200 && answer.status < 300;
  switch (plan.format) {
    case 'succeed':
      if (!ok) findings.breach('read or admin call refused', `${label}: ${answer.status} ${answer.text}`);
      return undefined;
    case 'refused':
      if (ok) findings.breach('bad request accepted', `${label}: ${answer.status} ${answer.text}`);
      else if (!plan.statuses.includes(answer.status)) {
        findings.note(
          `bad request answered ${answer.status} (expected ${plan.statuses.join(' or ')})`,
          `${label}: ${answer.text}`,
        );
      } else if (answer.status !== 401 && answer.status !== 403 && !hasMessage(answer)) {
        findings.breach('4xx without a JSON error that says what is wrong', `${label}: ${answer.text}`);
      }
      return undefined;
    case 'otlp': {
      if (!ok) {
        findings.breach('good request refused', `${label}: ${answer.status} ${answer.text}`);
        return undefined;
      }
      const rejected = Number(body.partialSuccess?.rejectedDataPoints ?? 0);
      if (rejected > 0) {
        findings.breach('good OTLP data points rejected', `${label}: ${answer.text}`);
        return undefined;
      }
      return [...plan.points];
    }
    case 'influx':
      return judgeByProblems(
        judge,
        request.kind,
        label,
        answer,
        body,
        numbered(plan.lines.length, 1),
        (index) => {
          // Influx problems name lines from 1.
          const line = plan.lines[index - 1];
          return { whole: line === undefined ? [] : [line], bad: line === undefined, bulk: false };
        },
      );
    case 'native':
      return judgeByProblems(
        judge,
        request.kind,
        label,
        answer,
        body,
        numbered(plan.items.length, 0),
        (index) => {
          const item = plan.items[index];
          return {
            whole: (item?.pairs ?? []).filter((pair): pair is SentPoint => pair !== undefined),
            bad: item?.bad ?? true,
            bulk: item?.bulk ?? false,
            pairs: item?.pairs,
          };
        },
      );
  }
}

/**
 * Native JSON and Influx answers: 2xx (or Influx's 400 "partial write", which carries `accepted`) stores every
 * item the answer's `problems` do not list; a 400 without `accepted` stores nothing. Checks that the problems
 * name exactly the bad items (and bad pairs of bulk items) and that `accepted` counts the rest.
 */
function judgeByProblems(
  judge: Judge,
  kind: string,
  label: string,
  answer: Answer,
  body: { accepted?: number; rejected?: number; problems?: Problem[] },
  indices: readonly number[],
  itemAt: (index: number) => {
    whole: SentPoint[];
    bad: boolean;
    bulk: boolean;
    pairs?: readonly (SentPoint | undefined)[];
  },
): SentPoint[] | undefined {
  const { findings } = judge;
  const hasGood = indices.some((index) => itemAt(index).whole.length > 0);
  const partial = answer.status >= 200 && answer.status < 300 ? true : typeof body.accepted === 'number';
  if (!partial) {
    if (hasGood)
      findings.breach('good items refused with the bad', `${label}: ${answer.status} ${answer.text}`);
    else if (answer.status !== 400) findings.note(`bad-only request answered ${answer.status}`, label);
    else if (!hasMessage(answer)) findings.breach('4xx without a JSON error that says what is wrong', label);
    return undefined;
  }
  const problems = body.problems ?? [];
  if (problems.length >= 100) {
    findings.note('answer listed 100 problems: items not checked one by one', label);
  }
  const wholeRefused = new Set<number>();
  const pairsRefused = new Map<number, Set<number>>();
  for (const problem of problems) {
    const pair = /^points\[(\d+)\]/.exec(problem.field ?? '');
    if (pair && itemAt(problem.index).bulk) {
      const refused = pairsRefused.get(problem.index) ?? new Set<number>();
      refused.add(Number(pair[1]));
      pairsRefused.set(problem.index, refused);
    } else {
      wholeRefused.add(problem.index);
    }
  }
  const accepted: SentPoint[] = [];
  let refusedAsExpected = 0;
  for (const index of indices) {
    const item = itemAt(index);
    if (wholeRefused.has(index)) {
      if (item.whole.length > 0) {
        findings.breach('good item refused', `${label}: item ${index}: ${problemText(problems, index)}`);
      } else {
        refusedAsExpected += 1;
      }
      continue;
    }
    if (item.bad) {
      findings.breach('bad item accepted', `${label}: item ${index} is not listed in ${answer.text}`);
      continue;
    }
    if (!item.bulk || !item.pairs) {
      accepted.push(...item.whole);
      continue;
    }
    const refused = pairsRefused.get(index) ?? new Set<number>();
    for (const [pairIndex, pair] of item.pairs.entries()) {
      if (pair === undefined && !refused.has(pairIndex)) {
        findings.breach('bad pair accepted', `${label}: item ${index} pair ${pairIndex} not listed`);
      } else if (pair === undefined) {
        refusedAsExpected += 1;
      } else if (pair !== undefined && refused.has(pairIndex)) {
        findings.breach('good pair refused', `${label}: item ${index} pair ${pairIndex}`);
      } else if (pair !== undefined) {
        accepted.push(pair);
      }
    }
  }
  judge.client.statsOf(kind).badItemsRefused += refusedAsExpected;
  // Influx's 204 has no body: everything was stored.
  const counted = answer.status === 204 ? accepted.length : body.accepted;
  if (problems.length < 100 && counted !== accepted.length) {
    findings.breach(
      '`accepted` differs from the items the problems do not list',
      `${label}: accepted ${counted}, unlisted points ${accepted.length}`,
    );
  }
  return accepted;
}

/** The numbers problems give items: native items from 0, Influx lines from 1. */
const numbered = (count: number, first: number): number[] =>
  Array.from({ length: count }, (_, offset) => offset + first);

const problemText = (problems: readonly Problem[], index: number): string =>
  problems
    .filter((problem) => problem.index === index)
    .map((problem) => `${problem.field}: ${problem.message}`)
    .join('; ');

/**
 * Whether a refusal says what is wrong: Normalcy's `{"error":{"message"}}`, Influx's `message`, or, for an
 * OTLP protobuf request, a protobuf `google.rpc.Status` (its message is text inside the binary body).
 */
function hasMessage(answer: Answer): boolean {
  if (answer.contentType.startsWith('application/x-protobuf')) return /[a-z]{4,}/.test(answer.text);
  const body = answer.json as { error?: { message?: unknown } | string; message?: unknown } | undefined;
  if (!body) return false;
  if (typeof body.error === 'object' && typeof body.error?.message === 'string') return true;
  return typeof body.message === 'string' || typeof body.error === 'string';
}
