import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBandFanoutSettings } from '../../cdk/band-fanout.ts';
import { NormalcyStack } from '../../cdk/stack.ts';

/** No function bundled: only the template is under test (the cdk-nag synth below bundles for real). */
const templateOnly = { 'aws:cdk:bundling-stacks': [] };

interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
}

interface StateJson {
  Type: string;
  Next?: string;
  End?: boolean;
  Parameters?: Record<string, unknown>;
  ItemsPath?: string;
  ResultPath?: string | null;
  ItemProcessor?: {
    ProcessorConfig: { Mode: string; ExecutionType: string };
    StartAt: string;
    States: Record<string, StateJson>;
  };
  ItemBatcher?: { MaxItemsPerBatch: number; BatchInput: Record<string, string> };
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Resource?: string;
}

const stackWith = (context: Record<string, unknown>) =>
  Template.fromStack(new NormalcyStack(new App({ context: { ...templateOnly, ...context } }), 'Test'));

/** The state machine's definition, its CloudFormation references replaced by their logical ids. */
function definitionOf(template: Template): { StartAt: string; States: Record<string, StateJson> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  }[];
  const parts = machine?.Properties.DefinitionString['Fn::Join'][1] ?? [];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const reference = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return reference.Ref ?? reference['Fn::GetAtt']?.[0] ?? '?';
    })
    .join('');
  return JSON.parse(text);
}

let template: Template;
beforeAll(() => {
  template = stackWith({ 'normalcy:stateShards': 128, 'normalcy:bandWorkerConcurrency': 24 });
}, 120_000);

describe('Band job fan-out (normalcy:bandJobMode)', () => {
  it('fans out from 64 state shards on, unless told; one function per run below', () => {
    const settings = (context: Record<string, unknown>, shards: number) =>
      readBandFanoutSettings(new App({ context }).node, shards).mode;
    expect(settings({}, 16)).toBe('single');
    expect(settings({}, 64)).toBe('fanout');
    expect(settings({ 'normalcy:bandJobMode': 'single' }, 256)).toBe('single');
    expect(settings({ 'normalcy:bandJobMode': 'fanout' }, 4)).toBe('fanout');
    expect(() => settings({ 'normalcy:bandJobMode': 'many' }, 4)).toThrow(
      'context normalcy:bandJobMode must be one of auto, single, fanout, got many',
    );
    expect(() => settings({ 'normalcy:bandShardsPerWorker': 0 }, 4)).toThrow(
      'context normalcy:bandShardsPerWorker must be a whole number from 1 to 64, got 0',
    );
    const small = stackWith({});
    small.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    small.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bands'), 'Arn'] } })],
    });
  });

  it('starts a Standard state machine on the schedule: shards listed, a Distributed Map over them, then delivery', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^BandFanoutStateMachine') },
          RetryPolicy: { MaximumRetryAttempts: 2 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    const definition = definitionOf(template);
    const list = definition.States[definition.StartAt];
    expect(list?.Type).toBe('Pass');
    const shards = list?.Parameters?.shards as string[];
    expect(shards).toHaveLength(128);
    // In the fan-out's order: a batch's shards share their index modulo 8, so its worker reads 3 log buckets of 24.
    expect(shards.slice(0, 5)).toEqual(['128-000', '128-008', '128-016', '128-024', '128-032']);
    expect(shards.slice(15, 17)).toEqual(['128-120', '128-001']);
    expect(new Set(shards).size).toBe(128);
    expect(list?.Parameters?.['runId.$']).toBe('$$.Execution.Name');
    // Then the layout check: the delivery function re-shards when the count changed, before any worker.
    const prepare = definition.States[list?.Next ?? ''];
    expect(prepare).toMatchObject({ Type: 'Task', ResultPath: null });
    expect(JSON.stringify(prepare?.Parameters)).toContain('"phase":"prepare"');
    const map = definition.States[prepare?.Next ?? ''];
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.shards',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' } },
      ItemBatcher: { MaxItemsPerBatch: 4, BatchInput: { 'runId.$': '$.runId' } },
      MaxConcurrency: 24,
      ToleratedFailurePercentage: 100,
      ResultPath: '$.batches',
    });
    const deliver = definition.States[map?.Next ?? ''];
    expect(deliver).toMatchObject({
      Type: 'Task',
      End: true,
      Parameters: { 'runId.$': '$.runId', 'batches.$': '$.batches' },
    });
    expect(deliver?.Resource).toMatch(/^BandsFunction/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 180,
      Environment: {
        Variables: Match.objectLike({
          NODE_OPTIONS: '--enable-source-maps --max-old-space-size=768 --max-semi-space-size=16',
          NORMALCY_STATE_SHARDS: '128',
        }),
      },
    });
  });

  it('retries a worker, and sends a batch that failed past its retries to the dead-letter queue and the operations topic', () => {
    const map = Object.values(definitionOf(template).States).find((state) => state.Type === 'Map');
    const processor = map?.ItemProcessor;
    const worker = processor?.States[processor.StartAt ?? ''];
    expect(worker?.Parameters).toEqual({ 'runId.$': '$.BatchInput.runId', 'shards.$': '$.Items' });
    expect(worker?.Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }),
    );
    // A request the worker refuses is not retried (the retrier before States.ALL matches first).
    expect(worker?.Retry?.at(-2)).toEqual({ ErrorEquals: ['BandWorkerRequestError'], MaxAttempts: 0 });
    expect(worker?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailedBatchToDeadLetters' },
    ]);
    const states = processor?.States ?? {};
    const toQueue = states.FailedBatchToDeadLetters;
    expect(toQueue?.Resource).toMatch(/:states:::sqs:sendMessage$/);
    expect(toQueue?.Parameters?.QueueUrl).toMatch(/^BandJobDeadLetters/);
    expect(toQueue?.Parameters?.MessageBody).toMatchObject({
      'shards.$': '$.Items',
      'cause.$': '$.error.Cause',
    });
    const toTopic = states[toQueue?.Next ?? ''];
    expect(toTopic?.Resource).toMatch(/:states:::sns:publish$/);
    expect(toTopic?.Parameters?.TopicArn).toMatch(/^OperationsTopic/);
    // The item ends as a report of the failed batch: the others go on, the last step learns its shards failed.
    const reported = states[toTopic?.Next ?? ''];
    expect(reported).toMatchObject({
      Type: 'Pass',
      End: true,
      Parameters: { 'shards.$': '$.Items', 'error.$': '$.error.Error' },
    });
    for (const reporter of [toQueue, toTopic]) expect(reporter?.Catch?.[0]?.ResultPath).toBeNull();
  });

  it('alarms on failed and timed-out runs and on the workers, to the operations topic', () => {
    const operationsTopic = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) =>
      id.startsWith('OperationsTopic'),
    );
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [
          { Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^BandFanoutStateMachine') } },
        ],
        AlarmActions: [{ Ref: operationsTopic }],
      });
    }
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^BandFanoutWorker') } }],
      });
    }
  });

  it('grants no wildcard action and no "*" resource but Timestream endpoint discovery; the workers may not publish alerts', () => {
    // Long policies overflow into managed policies: both kinds.
    const policies = [
      ...Object.values(template.findResources('AWS::IAM::Policy')),
      ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
    ] as {
      Properties: { PolicyDocument: { Statement: PolicyStatementJson[] }; Roles?: { Ref: string }[] };
    }[];
    for (const policy of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        for (const action of actions) expect(action).not.toMatch(/\*/);
        if (statement.Resource === '*') expect(actions).toEqual(['timestream:DescribeEndpoints']);
      }
    }
    const workerActions = policies
      .filter((policy) =>
        (policy.Properties.Roles ?? []).some((role) => role.Ref.startsWith('BandFanoutWorker')),
      )
      .flatMap((policy) =>
        policy.Properties.PolicyDocument.Statement.flatMap((statement) => [statement.Action].flat()),
      );
    expect(workerActions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'dynamodb:UpdateItem']),
    );
    expect(workerActions).not.toContain('sns:Publish');
    // The state machine's role: the two functions, the queue, the operations topic (and its key).
    const machineActions = policies
      .filter((policy) =>
        (policy.Properties.Roles ?? []).some((role) => role.Ref.startsWith('BandFanoutStateMachineRole')),
      )
      .flatMap((policy) =>
        policy.Properties.PolicyDocument.Statement.flatMap((statement) => [statement.Action].flat()),
      );
    expect(new Set(machineActions)).toEqual(
      new Set([
        'lambda:InvokeFunction',
        'sqs:SendMessage',
        'sns:Publish',
        'kms:GenerateDataKey',
        'kms:Decrypt',
        'states:StartExecution',
        'states:DescribeExecution',
        'states:StopExecution',
        'states:RedriveExecution',
      ]),
    );
  });
});

describe.each(['timestream', 'dynamodb'])('NormalcyStack fanned out with store=%s', (store) => {
  it('passes cdk-nag AwsSolutions with every acknowledgement justified', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'normalcy-nag-'));
    const app = new App({
      outdir,
      context: { 'normalcy:store': store, 'normalcy:bandJobMode': 'fanout', ...templateOnly },
    });
    new NormalcyStack(app, 'Nag');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        violations: { ruleName: string; severity: string; violatingConstructs: unknown }[];
      }[];
    };
    const nag = report.pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions');
    expect(
      nag?.violations.map(
        (v) => `${v.severity} ${v.ruleName} ${JSON.stringify(v.violatingConstructs).slice(0, 300)}`,
      ),
    ).toEqual([]);
    expect(failure).toBeUndefined();
  }, 120_000);
});
