/**
 * Runs a synthesized Step Functions definition in process, for the states the band job's state machine uses
 * (Pass, Task, Map with an ItemBatcher, Retry, Catch) and the JSONPath they use (`$.a.b`, `$$.Execution.Name`),
 * each Task's resource answered by a function of the test's. Enough to check the wiring (what each step is
 * handed and what it passes on), not a Step Functions emulator: no waits between retries, no timeouts.
 */

export interface StateJson {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Parameters?: Record<string, unknown>;
  readonly ItemsPath?: string;
  readonly ResultPath?: string | null;
  readonly ItemProcessor?: MachineJson;
  readonly ItemBatcher?: { readonly MaxItemsPerBatch: number; readonly BatchInput?: Record<string, unknown> };
  readonly MaxConcurrency?: number;
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[]; readonly MaxAttempts?: number }[];
  readonly Catch?: readonly {
    readonly ErrorEquals: readonly string[];
    readonly Next: string;
    readonly ResultPath?: string | null;
  }[];
  readonly Resource?: string;
}

export interface MachineJson {
  readonly StartAt: string;
  readonly States: Record<string, StateJson>;
}

/** A Task's resource, by a prefix of its ARN (a function's logical id, or `arn:aws:states:::sqs:sendMessage`). */
export type Resources = Record<string, (input: unknown) => Promise<unknown>>;

type Json = unknown;

function read(path: string, input: Json, context: Json): Json {
  const [root, ...steps] = path.startsWith('$$') ? ['$$', ...path.slice(3).split('.')] : path.split('.');
  let value = root === '$$' ? context : input;
  for (const step of steps.filter((part) => part !== '')) value = (value as Record<string, Json>)?.[step];
  return value;
}

function parameters(template: Json, input: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((entry) => parameters(entry, input, context));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) =>
      key.endsWith('.$')
        ? [key.slice(0, -2), read(String(value), input, context)]
        : [key, parameters(value, input, context)],
    ),
  );
}

function withResult(input: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const steps = resultPath.slice(2).split('.');
  const copy = structuredClone(input) as Record<string, Json>;
  let target = copy;
  for (const step of steps.slice(0, -1)) {
    target[step] ??= {};
    target = target[step] as Record<string, Json>;
  }
  target[steps.at(-1) ?? ''] = result;
  return copy;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'Error');
const matches = (names: readonly string[], error: unknown) =>
  names.includes('States.ALL') || names.includes(errorName(error));

/** Runs `machine` on `input` with `context` (`{ Execution: { Name } }`); resolves to its output. */
export async function runDefinition(
  machine: MachineJson,
  input: Json,
  context: Json,
  resources: Resources,
): Promise<Json> {
  let name: string | undefined = machine.StartAt;
  let current = input;
  while (name !== undefined) {
    const state: StateJson | undefined = machine.States[name];
    if (!state) throw new Error(`no state ${name}`);
    let next: string | undefined = state.End ? undefined : state.Next;
    try {
      const effective = state.Parameters ? parameters(state.Parameters, current, context) : current;
      const result = await withRetries(state, () => execute(state, effective, current, context, resources));
      current = withResult(current, state.ResultPath, result);
    } catch (error) {
      const catcher = state.Catch?.find((entry) => matches(entry.ErrorEquals, error));
      if (!catcher) throw error;
      const cause = error instanceof Error ? error.message : String(error);
      current = withResult(current, catcher.ResultPath, { Error: errorName(error), Cause: cause });
      next = catcher.Next;
    }
    name = next;
  }
  return current;
}

async function withRetries(state: StateJson, attempt: () => Promise<Json>): Promise<Json> {
  const attempts = new Map<number, number>();
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const index = (state.Retry ?? []).findIndex((entry) => matches(entry.ErrorEquals, error));
      const retrier = state.Retry?.[index];
      const made = attempts.get(index) ?? 0;
      if (!retrier || made >= (retrier.MaxAttempts ?? 3)) throw error;
      attempts.set(index, made + 1);
    }
  }
}

async function execute(
  state: StateJson,
  effective: Json,
  raw: Json,
  context: Json,
  resources: Resources,
): Promise<Json> {
  if (state.Type === 'Pass') return effective;
  if (state.Type === 'Task') {
    const resource = Object.entries(resources).find(([prefix]) => state.Resource?.startsWith(prefix));
    if (!resource) throw new Error(`no resource answers ${state.Resource}`);
    return await resource[1](effective);
  }
  if (state.Type === 'Map') {
    const items = read(state.ItemsPath ?? '$', raw, context) as Json[];
    const size = state.ItemBatcher?.MaxItemsPerBatch ?? 1;
    const batchInput =
      state.ItemBatcher?.BatchInput && parameters(state.ItemBatcher.BatchInput, raw, context);
    const inputs: Json[] = [];
    for (let index = 0; index < items.length; index += size) {
      inputs.push(
        state.ItemBatcher
          ? { Items: items.slice(index, index + size), BatchInput: batchInput }
          : items[index],
      );
    }
    const processor = state.ItemProcessor;
    if (!processor) throw new Error('a Map without an ItemProcessor');
    // In turns of MaxConcurrency, as the map runs them.
    const results: Json[] = [];
    const inFlight = state.MaxConcurrency ?? inputs.length;
    for (let index = 0; index < inputs.length; index += inFlight) {
      const turn = inputs.slice(index, index + inFlight);
      results.push(
        ...(await Promise.all(turn.map((item) => runDefinition(processor, item, context, resources)))),
      );
    }
    return results;
  }
  throw new Error(`state type ${state.Type} is not run here`);
}

/**
 * The definition of the state machine of a synthesized template, its references replaced by logical ids (the
 * partition by `aws`).
 */
export function definitionOfTemplate(resources: Record<string, unknown>): MachineJson {
  const [machine] = Object.values(resources) as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  }[];
  const parts = machine?.Properties.DefinitionString['Fn::Join'][1] ?? [];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const reference = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (reference.Ref === 'AWS::Partition') return 'aws';
      return reference.Ref ?? reference['Fn::GetAtt']?.[0] ?? '?';
    })
    .join('');
  return JSON.parse(text) as MachineJson;
}
