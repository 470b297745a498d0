import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefinitionBody,
  DistributedMap,
  Errors,
  ItemBatcher,
  JsonPath,
  Pass,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SnsPublish, SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type Node } from 'constructs';
import { NormalcyFunction } from './function.ts';

/**
 * How the band job runs: one function invocation over every shard (`single`, the cheapest at small scale), or
 * a Step Functions state machine whose Distributed Map runs a worker per batch of shards (`fanout`). Context
 * `normalcy:bandJobMode` (`single`, `fanout` or `auto`, the default: fan out from
 * {@link fanoutFromShards} state shards on, about 100,000 series, where one invocation takes 13 s and 0.6 GB
 * per 100,000 series: see BENCHMARKS.md).
 */
export const bandJobModes = ['auto', 'single', 'fanout'] as const;
export const fanoutFromShards = 64;

export interface BandFanoutSettings {
  readonly mode: 'single' | 'fanout';
  /** Workers the Distributed Map runs at once (context `normalcy:bandWorkerConcurrency`, default 16). */
  readonly workerConcurrency: number;
  /** Shards each worker takes per run (context `normalcy:bandShardsPerWorker`, default 4). */
  readonly shardsPerWorker: number;
}

export function readBandFanoutSettings(node: Node, stateShards: number): BandFanoutSettings {
  const context = (name: string) => node.tryGetContext(`normalcy:${name}`);
  const mode = String(context('bandJobMode') ?? 'auto');
  if (!(bandJobModes as readonly string[]).includes(mode)) {
    throw new Error(`context normalcy:bandJobMode must be one of ${bandJobModes.join(', ')}, got ${mode}`);
  }
  const integer = (name: string, fallback: number, max: number): number => {
    const raw = context(name);
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new Error(`context normalcy:${name} must be a whole number from 1 to ${max}, got ${String(raw)}`);
    }
    return value;
  };
  return {
    mode: mode === 'auto' ? (stateShards >= fanoutFromShards ? 'fanout' : 'single') : (mode as 'single'),
    workerConcurrency: integer('bandWorkerConcurrency', 16, 1000),
    shardsPerWorker: integer('bandShardsPerWorker', 4, 64),
  };
}

/**
 * V8's heap sizes for a worker (1,024 MB): old space three quarters of it, the rest for the runtime, buffers
 * and the young generation; `npm run bench:fanout` runs its workers with the same flags.
 */
export const bandWorkerHeapFlags = ['--max-old-space-size=768', '--max-semi-space-size=16'] as const;

export interface BandFanoutProps {
  readonly root: string;
  readonly logRetention: RetentionDays;
  /** The band function's environment, less what only delivery needs. */
  readonly environment: Record<string, string>;
  readonly settings: BandFanoutSettings;
  /**
   * Every shard of the run, in the fan-out's order (lib/jobs/state-shards.ts `fanoutShardOrder`): the map's
   * items (a static list, from the stack's shard count), cut into consecutive batches whose shards share the
   * store's partitions of recent points, so each worker reads only those.
   */
  readonly shards: readonly string[];
  /** The last step's function (functions/band-delivery.ts). */
  readonly delivery: IFunction;
  /** Where a batch that failed past its retries is sent, and who is told. */
  readonly deadLetters: IQueue;
  readonly operationsTopic: ITopic;
  readonly operationsKey: IKey;
}

/**
 * The band job as a Standard state machine: the run's shards (a static list), a Distributed Map of Express
 * child executions, one worker invocation per batch of shards (retried; past its retries the batch goes to
 * the dead-letter queue and the operations topic, and the other batches go on), then the last step, which
 * delivers notifications once for the run.
 */
export class BandFanout extends Construct {
  readonly worker: NormalcyFunction;
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: BandFanoutProps) {
    super(scope, id);
    const { settings } = props;
    this.worker = new NormalcyFunction(this, 'Worker', {
      root: props.root,
      logRetention: props.logRetention,
      entry: 'band-worker',
      memorySize: 1024,
      // Within the five minutes of an Express child; a worker saves its shards 20 s before its timeout.
      timeout: Duration.minutes(3),
      environment: {
        ...props.environment,
        NODE_OPTIONS: [props.environment.NODE_OPTIONS, ...bandWorkerHeapFlags].join(' '),
      },
    });

    const listShards = new Pass(this, 'ListShards', {
      comment: 'The run: its id (the execution name) and every shard of the configured count.',
      parameters: { 'runId.$': '$$.Execution.Name', shards: [...props.shards] },
    });
    const runShards = new LambdaInvoke(this, 'RunShards', {
      lambdaFunction: this.worker.function,
      payload: TaskInput.fromObject({ 'runId.$': '$.BatchInput.runId', 'shards.$': '$.Items' }),
      payloadResponseOnly: true,
      taskTimeout: Timeout.duration(Duration.minutes(4)),
    });
    // A request the worker refuses is not retried; anything else is, twice, with backoff.
    runShards.addRetry({ errors: ['BandWorkerRequestError'], maxAttempts: 0 });
    runShards.addRetry({
      errors: [Errors.ALL],
      maxAttempts: 2,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    const failedBatch = new Pass(this, 'FailedBatch', {
      comment: 'What the last step reads of a failed batch: its shards, left as they were for the next run.',
      parameters: { 'shards.$': '$.Items', 'error.$': '$.error.Error' },
    });
    const failure = {
      'runId.$': '$.BatchInput.runId',
      'shards.$': '$.Items',
      'error.$': '$.error.Error',
      'cause.$': '$.error.Cause',
    };
    const toDeadLetters = new SqsSendMessage(this, 'FailedBatchToDeadLetters', {
      queue: props.deadLetters,
      messageBody: TaskInput.fromObject(failure),
      resultPath: JsonPath.DISCARD,
    });
    const toOperations = new SnsPublish(this, 'FailedBatchToOperations', {
      topic: props.operationsTopic,
      subject: 'Normalcy: a band worker failed past its retries',
      message: TaskInput.fromObject(failure),
      resultPath: JsonPath.DISCARD,
    });
    // Reporting a failure must not fail the batch's item (the map would count it against the others).
    toDeadLetters.addCatch(toOperations, { resultPath: JsonPath.DISCARD });
    toOperations.addCatch(failedBatch, { resultPath: JsonPath.DISCARD });
    runShards.addCatch(toDeadLetters.next(toOperations).next(failedBatch), {
      errors: [Errors.ALL],
      resultPath: '$.error',
    });
    const map = new DistributedMap(this, 'Shards', {
      comment: 'A worker per batch of shards, in Express child executions.',
      itemsPath: '$.shards',
      itemBatcher: new ItemBatcher({
        maxItemsPerBatch: settings.shardsPerWorker,
        batchInput: { 'runId.$': '$.runId' },
      }),
      mapExecutionType: StateMachineType.EXPRESS,
      maxConcurrency: settings.workerConcurrency,
      // Each item catches its own failure; should reporting one fail as well, the other batches still run.
      toleratedFailurePercentage: 100,
      resultPath: '$.batches',
    });
    map.itemProcessor(runShards);
    // Before any worker: a changed shard count moves the states to the new count's shards (lib/jobs/reshard.ts),
    // once for the run, in the delivery function (it holds the state bucket's grants).
    const prepare = new LambdaInvoke(this, 'Prepare', {
      lambdaFunction: props.delivery,
      payload: TaskInput.fromObject({ phase: 'prepare', 'runId.$': '$.runId' }),
      payloadResponseOnly: true,
      resultPath: JsonPath.DISCARD,
      taskTimeout: Timeout.duration(Duration.minutes(5)),
    });
    prepare.addRetry({ errors: [Errors.ALL], maxAttempts: 2, interval: Duration.seconds(5), backoffRate: 2 });
    const deliver = new LambdaInvoke(this, 'Deliver', {
      lambdaFunction: props.delivery,
      payload: TaskInput.fromObject({ 'runId.$': '$.runId', 'batches.$': '$.batches' }),
      payloadResponseOnly: true,
      // The run's summary is in the delivery function's log; the execution keeps the batches' reports.
      resultPath: JsonPath.DISCARD,
      taskTimeout: Timeout.duration(Duration.minutes(5)),
    });
    deliver.addRetry({ errors: [Errors.ALL], maxAttempts: 2, interval: Duration.seconds(5), backoffRate: 2 });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Normalcy band job: the shards fanned out to workers, then delivery once per run.',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(listShards.next(prepare).next(map).next(deliver)),
      timeout: Duration.minutes(15),
    });
    // Publishing to the operations topic needs its key, for that topic only.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.operationsKey.keyArn],
        conditions: {
          StringEquals: { 'kms:EncryptionContext:aws:sns:topicArn': props.operationsTopic.topicArn },
        },
      }),
    );
    this.acknowledge([this.worker.function, props.delivery]);
  }

  /** Alarms on failed and timed-out runs, and on the workers' errors and throttles (each retried first). */
  addAlarms(alarm: (name: string, metric: IMetric) => void): void {
    const period = Duration.minutes(5);
    alarm('BandRunsFailed', this.stateMachine.metricFailed({ period }));
    alarm('BandRunsTimedOut', this.stateMachine.metricTimedOut({ period }));
    alarm('BandWorkerErrors', this.worker.function.metricErrors({ period }));
    alarm('BandWorkerThrottles', this.worker.function.metricThrottles({ period }));
  }

  /** cdk-nag findings on the state machine, each with its reason. */
  private acknowledge(functions: readonly Construct[]): void {
    const stack = Stack.of(this);
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-SF1',
        reason:
          'Step Functions log delivery needs logs:* delivery actions on resource "*"; the Standard parent keeps each execution history, a failed batch goes with its error and cause to the dead-letter queue and the operations topic, and the workers log to their own log groups.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-SF2',
        reason:
          'X-Ray would need a policy on resource "*"; the execution history and the functions\' logs trace a run.',
      },
    );
    const logicalId = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
    for (const fn of functions) {
      Validations.of(this.stateMachine.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
        reason:
          'Step Functions invokes the worker and the last step by any of their versions (the ARN with ":*").',
      });
    }
    // The executions of this state machine's map runs, by their ARN prefix (named at run time).
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    for (const resource of [`${executions}:*`, `${executions}/*:*`]) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          "A Distributed Map describes, stops and redrives its own child executions, whose names the run gives (this state machine's executions only).",
      });
    }
  }
}
