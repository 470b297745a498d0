import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, Billing, ProjectionType, TableClass, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { FilterPattern, LogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import type { Construct } from 'constructs';
import {
  alertsByStateIndex,
  anomalyIndex,
  catalogIndex,
  catalogIndexAttributes,
  keyItemPrefix,
  layoutKey,
  pendingIndex,
  pendingTransitionsIndex,
  shardKey,
  stateKeyPrefix,
  summariesKey,
  summaryPartKey,
} from '../lib/adapters/schema.ts';
import { type ApiFunction, servedRoutes } from '../lib/http/routes.ts';
import { fanoutShardOrder, shardNames } from '../lib/jobs/state-shards.ts';
import { BandFanout, readBandFanoutSettings } from './band-fanout.ts';
import { bandJobHeapFlags } from './band-job-node-options.ts';
import { NormalcyFunction } from './function.ts';
import { queryDocumentHooks } from './query-assets.ts';
import { readSettings, type StackSettings, scheduleIntervalMs } from './settings.ts';

const root = join(fileURLToPath(import.meta.url), '..', '..');

/** The CloudWatch namespace of Normalcy's own metrics (from log metric filters). */
export const metricsNamespace = 'Normalcy';

/**
 * Normalcy in one stack: an HTTP API in front of the ingest, query and alerts functions, Timestream (or
 * DynamoDB) for points and bands, a DynamoDB table for the series catalog, band-job progress and API key
 * digests (under a generated Secrets Manager secret), another for alert rules and alert state, the band job
 * on an EventBridge schedule, an SNS topic for alerts, and alarms on the stack's own health to an operations
 * topic (each topic encrypted with a customer-managed KMS key of its own).
 */
/** The synth's warning when points and bands go to Timestream (the default). */
export const timestreamClosedWarning =
  'Points and bands go to Timestream for LiveAnalytics (normalcy:store=timestream, the default), which is ' +
  'closed to new AWS customers since 2025-06-20: this deploy fails in an account that has not used ' +
  'Timestream before. Deploy with -c normalcy:store=dynamodb instead (README, "Deploy to AWS").';

export class NormalcyStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const settings = readSettings(this.node);
    // One band function per run, or a state machine fanning the shards out to workers (cdk/band-fanout.ts).
    const bandFanoutSettings = readBandFanoutSettings(this.node, settings.stateShards);
    const fannedOut = bandFanoutSettings.mode === 'fanout';

    // Storage: kept when the stack is deleted.
    const storage =
      settings.store === 'timestream' ? this.timestreamStorage(settings) : this.dynamoStorage(settings);

    const stateTable = new TableV2(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        { indexName: pendingIndex, partitionKey: { name: 'pendingShard', type: AttributeType.STRING } },
        {
          indexName: catalogIndex,
          partitionKey: { name: 'catalogShard', type: AttributeType.STRING },
          sortKey: { name: 'catalogKey', type: AttributeType.STRING },
          projectionType: ProjectionType.INCLUDE,
          nonKeyAttributes: [...catalogIndexAttributes],
        },
      ],
    });

    // Alert state has a table of its own: its own indexes (the delivery outbox, alerts by state) and grants
    // that let the alerts function change rules and alerts without touching the series catalog or key hashes.
    const alertTable = new TableV2(this, 'AlertTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: pendingTransitionsIndex,
          partitionKey: { name: 'pendingShard', type: AttributeType.STRING },
          sortKey: { name: 'deliverOrder', type: AttributeType.STRING },
        },
        {
          indexName: alertsByStateIndex,
          partitionKey: { name: 'alertState', type: AttributeType.STRING },
          sortKey: { name: 'startedAt', type: AttributeType.NUMBER },
        },
      ],
    });

    // The band job's state: one object per shard and the listing summaries, rewritten every run (a PUT costs
    // the same whatever its size). Versioned, so a bad run can be rolled back; old versions go after a day.
    const stateBucket = new Bucket(this, 'StateBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [
        {
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(stateBucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Only the band function writes this bucket (its own state, no user data); access logs would add a bucket and cost per run.',
    });

    // Each topic is encrypted with a customer-managed key of its own (rotated yearly), so that each publisher
    // can use only its topic's key: the band job the alert key (by its IAM policy, below), CloudWatch alarms
    // the operations key (by the key's policy). SNS decrypts for email, HTTPS and Lambda subscribers itself;
    // an SQS subscriber's own queue key must allow sns.amazonaws.com, not these.
    const topicKey = (id: string, topic: string) =>
      new Key(this, id, {
        description: `Normalcy: encrypts the ${topic} topic`,
        enableKeyRotation: true,
        // Messages are not kept once delivered: nothing needs the key after the topic is gone.
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
    const alertKey = topicKey('AlertTopicKey', 'alert');
    const alertTopic = new Topic(this, 'AlertTopic', {
      displayName: 'Normalcy alerts',
      enforceSSL: true,
      masterKey: alertKey,
    });
    if (settings.alertEmail) alertTopic.addSubscription(new EmailSubscription(settings.alertEmail));
    const operationsKey = topicKey('OperationsTopicKey', 'operations');
    const operationsTopic = new Topic(this, 'OperationsTopic', {
      displayName: 'Normalcy operations',
      enforceSSL: true,
      masterKey: operationsKey,
    });
    if (settings.opsEmail) operationsTopic.addSubscription(new EmailSubscription(settings.opsEmail));
    /** Publishing to an encrypted topic: a data key, made and read under the topic ARN as encryption context. */
    const publishWithKey = ['kms:GenerateDataKey', 'kms:Decrypt'];
    const snsContext = 'kms:EncryptionContext:aws:sns:topicArn';
    operationsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToOperationsTopic',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: publishWithKey,
        resources: ['*'],
        // The topic's own ARN here would make the key depend on the topic that depends on it.
        conditions: { StringLike: { [snsContext]: this.formatArn({ service: 'sns', resource: '*' }) } },
      }),
    );

    // The key secret: stores keep each API key's HMAC-SHA256 under it, never the key. 64 letters and digits
    // (about 380 bits). Not rotated: a new secret would invalidate every key; rotate keys instead (create,
    // then revoke). Kept with the state table, whose key records are useless without it.
    const keySecret = new Secret(this, 'KeySecret', {
      description: 'Normalcy: the HMAC key API keys are filed under',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(keySecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC secret would invalidate every API key filed under it; API keys are rotated instead.',
    });

    // Functions
    const environment = {
      ...storage.environment,
      STATE_TABLE: stateTable.tableName,
      ALERT_TABLE: alertTable.tableName,
      POWERTOOLS_SERVICE_NAME: 'normalcy',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const common = { root, logRetention: settings.logRetentionDays, environment };
    const ingest = new NormalcyFunction(this, 'Ingest', {
      ...common,
      entry: 'ingest',
      // Points older than the store keeps are refused per item, with the reason, instead of by the store.
      environment: { ...environment, NORMALCY_MAX_POINT_AGE_DAYS: String(storage.retentionDays) },
    });
    // The query function also serves the dashboard at GET / and the OpenAPI document, bundled beside it.
    const query = new NormalcyFunction(this, 'Query', {
      ...common,
      entry: 'query',
      commandHooks: queryDocumentHooks(root),
      // Listings read the band job's summaries of every series.
      environment: { ...environment, STATE_BUCKET: stateBucket.bucketName },
    });

    // Replays (POST /v1/series/{id}/replay) read a series' step from the band job's summaries, and explain
    // the alerts they find in the time zone the band job does.
    const alerts = new NormalcyFunction(this, 'Alerts', {
      ...common,
      entry: 'alerts',
      environment: {
        ...environment,
        STATE_BUCKET: stateBucket.bucketName,
        NORMALCY_TIME_ZONE: settings.timeZone,
      },
    });

    // The band job: one run at a time (reserved concurrency 1); a run that fails twice lands in a dead-letter
    // queue, as does an invocation that could not start within five minutes.
    const bandDeadLetters = new Queue(this, 'BandJobDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(bandDeadLetters).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the band job.',
    });
    const bands = new NormalcyFunction(this, 'Bands', {
      ...common,
      // Fanned out, this function is the run's last step: it merges the workers' reports and delivers.
      entry: fannedOut ? 'band-delivery' : 'bands',
      memorySize: 2048,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
      environment: {
        ...environment,
        NODE_OPTIONS: [environment.NODE_OPTIONS, ...bandJobHeapFlags].join(' '),
        ALERT_TOPIC_ARN: alertTopic.topicArn,
        NORMALCY_SENSITIVITY: String(settings.sensitivity),
        NORMALCY_MIN_STEP_SECONDS: String(settings.minStepSeconds),
        STATE_BUCKET: stateBucket.bucketName,
        NORMALCY_STATE_SHARDS: String(settings.stateShards),
        NORMALCY_INCIDENT_WINDOW_MINUTES: String(settings.incidentWindowMinutes),
        NORMALCY_INCIDENT_UPDATE_MINUTES: String(settings.incidentUpdateMinutes),
        NORMALCY_TIME_ZONE: settings.timeZone,
      },
      extra: {
        retryAttempts: 2,
        maxEventAge: Duration.minutes(10),
        onFailure: new SqsDestination(bandDeadLetters),
      },
    });

    // Least-privilege grants, action by action.
    storage.grantWritePoints(ingest);
    storage.grantRead(query);
    storage.grantRead(bands);
    // Replays read points and bands as the query function does (never writing them).
    storage.grantRead(alerts);
    storage.grantWriteBands(bands);
    const grantState = (fn: NormalcyFunction, actions: string[], resources = [stateTable.tableArn]) =>
      fn.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources }));
    // PutItem and Scan: the admin routes create and list keys.
    grantState(ingest, ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:Scan']);
    grantState(query, ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:BatchGetItem']);
    grantState(query, ['dynamodb:Query'], [`${stateTable.tableArn}/index/${catalogIndex}`]);
    grantState(bands, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    grantState(bands, ['dynamodb:Query'], [`${stateTable.tableArn}/index/${pendingIndex}`]);
    // State objects by name: the summaries, the layout record and the shards. ListBucket makes a missing object
    // a 404 (a shard not written yet) instead of a 403.
    const stateObject = (key: string) => stateBucket.arnForObjects(key);
    const summaries = stateObject(summariesKey(stateKeyPrefix));
    const allow = (fn: NormalcyFunction, actions: string[], resources: string[]) =>
      fn.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources }));
    // The shards of any count: re-sharding reads the count the state was written with (lib/jobs/reshard.ts).
    const shardObjects = stateObject(shardKey(stateKeyPrefix, '*'));
    allow(
      bands,
      ['s3:GetObject', 's3:PutObject'],
      [shardObjects, stateObject(layoutKey(stateKeyPrefix)), summaries],
    );
    Validations.of(bands.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${this.getLogicalId(stateBucket.node.defaultChild as CfnBucket)}.Arn>/${shardKey(stateKeyPrefix, '*')}]`,
      reason:
        'The band job state shards of every count (names 1-000 to 256-255): a changed count re-shards from the old shards, and the names of all counts overflow a policy.',
    });
    for (const fn of [query, alerts]) allow(fn, ['s3:GetObject'], [summaries]);
    for (const fn of [bands, query, alerts]) allow(fn, ['s3:ListBucket'], [stateBucket.bucketArn]);
    const alertIndexes = [pendingTransitionsIndex, alertsByStateIndex].map(
      (index) => `${alertTable.tableArn}/index/${index}`,
    );
    const alertItemActions = [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
    ];
    for (const [fn, extra] of [
      [bands, []],
      [alerts, ['dynamodb:DeleteItem']],
    ] as const) {
      fn.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...alertItemActions, ...extra],
          resources: [alertTable.tableArn],
        }),
      );
      fn.role.addToPolicy(
        new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:Query'], resources: alertIndexes }),
      );
    }
    grantState(alerts, ['dynamodb:GetItem']);
    allow(bands, ['sns:Publish'], [alertTopic.topicArn]);
    bands.role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: publishWithKey,
        resources: [alertKey.keyArn],
        conditions: { StringEquals: { [snsContext]: alertTopic.topicArn } },
      }),
    );

    // Fanned out: the workers do the band function's per-shard work, with its grants but publishing; the last
    // step reads the summary parts they leave (one per batch, named by its first shard).
    const bandFanout = fannedOut
      ? new BandFanout(this, 'BandFanout', {
          root,
          logRetention: settings.logRetentionDays,
          environment: {
            ...environment,
            NORMALCY_SENSITIVITY: String(settings.sensitivity),
            NORMALCY_MIN_STEP_SECONDS: String(settings.minStepSeconds),
            STATE_BUCKET: stateBucket.bucketName,
            NORMALCY_STATE_SHARDS: String(settings.stateShards),
            NORMALCY_TIME_ZONE: settings.timeZone,
          },
          settings: bandFanoutSettings,
          shards: fanoutShardOrder(settings.stateShards),
          delivery: bands.function,
          deadLetters: bandDeadLetters,
          operationsTopic,
          operationsKey,
        })
      : undefined;
    if (bandFanout) {
      const worker = bandFanout.worker;
      const parts = shardNames(settings.stateShards).map((name) =>
        stateObject(summaryPartKey(stateKeyPrefix, name)),
      );
      storage.grantRead(worker);
      storage.grantWriteBands(worker);
      grantState(worker, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      grantState(worker, ['dynamodb:Query'], [`${stateTable.tableArn}/index/${pendingIndex}`]);
      allow(
        worker,
        ['s3:GetObject', 's3:PutObject'],
        shardNames(settings.stateShards).map((name) => stateObject(shardKey(stateKeyPrefix, name))),
      );
      allow(worker, ['s3:PutObject'], parts);
      allow(bands, ['s3:GetObject'], parts);
      allow(worker, ['s3:ListBucket'], [stateBucket.bucketArn]);
      allow(worker, alertItemActions, [alertTable.tableArn]);
      allow(worker, ['dynamodb:Query'], alertIndexes);
    }

    // The functions that check API keys read the key secret (once per container), and may refile a key of
    // the old kind (plain SHA-256) under its keyed digest: PutItem and DeleteItem on key items only.
    for (const fn of [ingest, query, alerts]) {
      fn.function.addEnvironment('KEY_SECRET_ARN', keySecret.secretArn);
      allow(fn, ['secretsmanager:GetSecretValue'], [keySecret.secretArn]);
      fn.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [stateTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${keyItemPrefix}*`] } },
        }),
      );
    }

    // API: HTTPS only (HTTP APIs have no plain-HTTP endpoint), throttled, access-logged without paths (the
    // Netuitive routes carry the key in the path, so the log keeps the route template, never the raw path).
    const api = new HttpApi(this, 'Api', { description: 'Normalcy metrics API' });
    const integrations: Record<ApiFunction, HttpLambdaIntegration> = {
      ingest: new HttpLambdaIntegration('IngestIntegration', ingest.function),
      query: new HttpLambdaIntegration('QueryIntegration', query.function),
      alerts: new HttpLambdaIntegration('AlertsIntegration', alerts.function),
    };
    // Every route of the table, and HEAD beside each GET (HTTP APIs match methods exactly).
    for (const route of servedRoutes) {
      const [created] = api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrations[route.function],
      });
      if (created) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions::AwsSolutions-APIG4',
          reason:
            'Every route but /health checks an API key in the handler against HMAC-SHA256 digests in DynamoDB.',
        });
      }
    }
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stage = api.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: settings.apiRateLimit,
      throttlingBurstLimit: settings.apiBurstLimit,
    };
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        route: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        bytes: '$context.responseLength',
        ip: '$context.identity.sourceIp',
        error: '$context.integrationErrorMessage',
      }),
    };

    // Alert links point at the dashboard: its URL from context, else the API's own URL.
    bands.function.addEnvironment('NORMALCY_DASHBOARD_URL', settings.dashboardUrl ?? api.apiEndpoint);
    bandFanout?.worker.function.addEnvironment(
      'NORMALCY_DASHBOARD_URL',
      settings.dashboardUrl ?? api.apiEndpoint,
    );

    // Alertmanager, when given: the band job posts alerts there too, and re-posts them each run while open
    // (they fire four intervals past each post, so the job needs its schedule's interval; cron: one minute).
    if (settings.alertmanagerUrl || settings.alertmanagerSecret) {
      if (settings.alertmanagerUrl) {
        bands.function.addEnvironment('NORMALCY_ALERTMANAGER_URL', settings.alertmanagerUrl);
      } else if (settings.alertmanagerSecret) {
        // The URL (and its credentials) stays in the secret: the function reads it, the template names it.
        const secret = Secret.fromSecretNameV2(this, 'AlertmanagerSecret', settings.alertmanagerSecret);
        bands.function.addEnvironment('NORMALCY_ALERTMANAGER_SECRET', settings.alertmanagerSecret);
        // A secret's ARN ends in six random characters: the pattern matches this one secret.
        allow(bands, ['secretsmanager:GetSecretValue'], [`${secret.secretArn}-??????`]);
      }
      const intervalMs = scheduleIntervalMs(settings.bandSchedule);
      if (intervalMs !== undefined)
        bands.function.addEnvironment('NORMALCY_BAND_INTERVAL_MS', String(intervalMs));
    }

    // Schedule
    new Rule(this, 'BandSchedule', {
      schedule: Schedule.expression(settings.bandSchedule),
      targets: [
        bandFanout
          ? new SfnStateMachine(bandFanout.stateMachine, {
              retryAttempts: 2,
              deadLetterQueue: bandDeadLetters,
            })
          : new LambdaFunction(bands.function, { retryAttempts: 2, deadLetterQueue: bandDeadLetters }),
      ],
    });

    // Alarms on the stack's own health, to the operations topic.
    const alarm = (name: string, metric: IMetric, threshold = 1) =>
      new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(operationsTopic));
    const functions: [string, IFunction][] = [
      ['Ingest', ingest.function],
      ['Query', query.function],
      ['Alerts', alerts.function],
      ['Bands', bands.function],
    ];
    for (const [name, fn] of functions) {
      alarm(`${name}Errors`, fn.metricErrors({ period: Duration.minutes(5) }));
      alarm(`${name}Throttles`, fn.metricThrottles({ period: Duration.minutes(5) }));
    }
    bandFanout?.addAlarms(alarm);
    alarm(
      'BandJobDeadLettersAlarm',
      bandDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    );
    new MetricFilter(this, 'IngestRejectionsFilter', {
      logGroup: ingest.logGroup,
      metricNamespace: metricsNamespace,
      metricName: 'RejectedItems',
      filterPattern: FilterPattern.exists('$.rejectedItems'),
      metricValue: '$.rejectedItems',
    });
    alarm(
      'IngestRejections',
      new Metric({
        namespace: metricsNamespace,
        metricName: 'RejectedItems',
        statistic: 'Sum',
        period: Duration.minutes(15),
      }),
      100,
    );

    // Series the band job keeps aside (their engine or rules failed on them): each run logs how many.
    new MetricFilter(this, 'QuarantinedSeriesFilter', {
      logGroup: bands.logGroup,
      metricNamespace: metricsNamespace,
      metricName: 'QuarantinedSeries',
      filterPattern: FilterPattern.exists('$.seriesQuarantined'),
      metricValue: '$.seriesQuarantined',
    });
    alarm(
      'QuarantinedSeriesAlarm',
      new Metric({
        namespace: metricsNamespace,
        metricName: 'QuarantinedSeries',
        statistic: 'Maximum',
        period: Duration.minutes(15),
      }),
    );

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'AlertTopicArn', { value: alertTopic.topicArn });
    new CfnOutput(this, 'OperationsTopicArn', { value: operationsTopic.topicArn });
    new CfnOutput(this, 'StateTableName', { value: stateTable.tableName });
    new CfnOutput(this, 'AlertTableName', { value: alertTable.tableName });
    new CfnOutput(this, 'StateBucketName', { value: stateBucket.bucketName });
    new CfnOutput(this, 'KeySecretArn', { value: keySecret.secretArn });
  }
  /** Points and bands in Timestream for LiveAnalytics (the default). */
  private timestreamStorage(settings: StackSettings): Storage {
    // Said at every synth and deploy: the default store cannot be created in most accounts made today. It stays
    // the default so that a deployment made with it is not switched to an empty DynamoDB store by an upgrade.
    Annotations.of(this).addWarningV2('normalcy:timestream-closed', timestreamClosedWarning);
    const database = new CfnDatabase(this, 'Database', {});
    database.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(database).acknowledge({
      id: 'AwsSolutions::AwsSolutions-TS3',
      reason:
        'Timestream encrypts at rest with an AWS-owned key; a customer key would add $1/month and KMS calls.',
    });
    const timestreamTable = (name: string) => {
      const table = new CfnTable(this, name, {
        databaseName: database.ref,
        retentionProperties: {
          MemoryStoreRetentionPeriodInHours: String(settings.memoryRetentionHours),
          MagneticStoreRetentionPeriodInDays: String(settings.magneticRetentionDays),
        },
        // Backfilled history is older than the memory store keeps: it goes to the magnetic store.
        magneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
      });
      table.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return table;
    };
    const pointsTable = timestreamTable('PointsTable');
    const bandsTable = timestreamTable('BandsTable');
    const discovering = new Set<NormalcyFunction>();
    const allow = (fn: NormalcyFunction, actions: string[], tables: CfnTable[]) => {
      if (!discovering.has(fn)) this.allowEndpointDiscovery(fn, discovering);
      fn.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions,
          resources: tables.map((table) => table.attrArn),
        }),
      );
    };
    return {
      retentionDays: settings.magneticRetentionDays,
      environment: {
        NORMALCY_STORE: 'timestream',
        TIMESTREAM_DATABASE: database.ref,
        TIMESTREAM_POINTS_TABLE: pointsTable.attrName,
        TIMESTREAM_BANDS_TABLE: bandsTable.attrName,
      },
      grantWritePoints: (fn) => allow(fn, ['timestream:WriteRecords'], [pointsTable]),
      grantRead: (fn) => allow(fn, ['timestream:Select'], [pointsTable, bandsTable]),
      grantWriteBands: (fn) => allow(fn, ['timestream:WriteRecords'], [bandsTable]),
    };
  }

  /** Timestream's endpoint discovery has no resource to scope to: AWS requires "*" for this one action. */
  private allowEndpointDiscovery(fn: NormalcyFunction, granted: Set<NormalcyFunction>): void {
    granted.add(fn);
    fn.role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['timestream:DescribeEndpoints'],
        resources: ['*'],
      }),
    );
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'timestream:DescribeEndpoints supports no resource-level permission; it is the only action on "*".',
    });
  }

  /** Points and bands in DynamoDB, for accounts that cannot create Timestream tables. */
  private dynamoStorage(settings: StackSettings): Storage {
    const dataTable = new TableV2(this, 'DataTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.NUMBER },
      billing: Billing.onDemand(),
      // normalcy:dynamoTableClass; a running table changes class in place. Standard is left unsaid (the default),
      // so that the template of a deployment that keeps it does not change.
      ...(settings.dynamoTableClass === 'infrequent-access' && {
        tableClass: TableClass.STANDARD_INFREQUENT_ACCESS,
      }),
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: anomalyIndex,
          partitionKey: { name: 'anomalyDay', type: AttributeType.STRING },
          sortKey: { name: 'sk', type: AttributeType.NUMBER },
        },
      ],
    });
    const allow = (fn: NormalcyFunction, actions: string[], resources: string[]) =>
      fn.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources }));
    const index = `${dataTable.tableArn}/index/${anomalyIndex}`;
    return {
      retentionDays: settings.dynamoRetentionDays,
      environment: {
        NORMALCY_STORE: 'dynamodb',
        DATA_TABLE: dataTable.tableName,
        DATA_RETENTION_DAYS: String(settings.dynamoRetentionDays),
      },
      // Points go to a log (BatchWriteItem); older points are merged into their series-hour item (Query,
      // conditional PutItem, DeleteItem of a part an hour no longer needs); UpdateItem: the earliest marker.
      grantWritePoints: (fn) =>
        allow(
          fn,
          [
            'dynamodb:BatchWriteItem',
            'dynamodb:UpdateItem',
            'dynamodb:Query',
            'dynamodb:PutItem',
            'dynamodb:DeleteItem',
          ],
          [dataTable.tableArn],
        ),
      grantRead: (fn) => {
        allow(fn, ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'], [dataTable.tableArn]);
        allow(fn, ['dynamodb:Query'], [index]);
      },
      // Bands as points; the band job also compacts the logs (PutItem, DeleteItem of withdrawn anomalies,
      // UpdateItem of the compaction watermark).
      grantWriteBands: (fn) =>
        allow(
          fn,
          ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
          [dataTable.tableArn],
        ),
    };
  }
}

/** What the functions need to know about where points and bands live. */
interface Storage {
  readonly environment: Record<string, string>;
  /** Days a point is kept: older ones cannot be written. */
  readonly retentionDays: number;
  grantWritePoints(fn: NormalcyFunction): void;
  grantRead(fn: NormalcyFunction): void;
  grantWriteBands(fn: NormalcyFunction): void;
}
