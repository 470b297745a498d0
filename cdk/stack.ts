import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import type { Construct } from 'constructs';
import { pendingIndex } from '../lib/adapters/dynamodb-state-store.ts';
import { type ApiFunction, apiRoutes } from '../lib/http/routes.ts';
import { readSettings } from './settings.ts';

const root = join(fileURLToPath(import.meta.url), '..', '..');

/**
 * Normalcy in one stack: an HTTP API in front of the ingest and query functions, Timestream for points and
 * bands, a DynamoDB table for the series catalog, band-job progress and API key hashes, the band job on an
 * EventBridge schedule, and an SNS topic for alerts.
 */
export class NormalcyStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const settings = readSettings(this.node);

    // Storage
    const database = new CfnDatabase(this, 'Database', {});
    database.applyRemovalPolicy(RemovalPolicy.RETAIN);
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

    const stateTable = new TableV2(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        { indexName: pendingIndex, partitionKey: { name: 'pendingShard', type: AttributeType.STRING } },
      ],
    });

    const alertTopic = new Topic(this, 'AlertTopic', { displayName: 'Normalcy alerts', enforceSSL: true });
    if (settings.alertEmail) alertTopic.addSubscription(new EmailSubscription(settings.alertEmail));

    // Functions
    const environment = {
      TIMESTREAM_DATABASE: database.ref,
      TIMESTREAM_POINTS_TABLE: pointsTable.attrName,
      TIMESTREAM_BANDS_TABLE: bandsTable.attrName,
      STATE_TABLE: stateTable.tableName,
      POWERTOOLS_SERVICE_NAME: 'normalcy',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const makeFunction = (name: string, props: Partial<NodejsFunctionProps> = {}) =>
      new NodejsFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}Function`, {
        entry: join(root, 'functions', `${name}.ts`),
        handler: 'handler',
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: 1024,
        timeout: Duration.seconds(29),
        projectRoot: root,
        depsLockFilePath: join(root, 'package-lock.json'),
        environment,
        bundling: {
          minify: true,
          sourceMap: true,
          format: OutputFormat.ESM,
          target: 'node22',
          externalModules: ['@aws-sdk/*'],
          mainFields: ['module', 'main'],
          banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        },
        ...props,
      });
    const ingestFunction = makeFunction('ingest', {
      // Points older than the magnetic store keeps are refused per item instead of by Timestream.
      environment: { ...environment, NORMALCY_MAX_POINT_AGE_DAYS: String(settings.magneticRetentionDays) },
    });
    const queryFunction = makeFunction('query');
    const bandsFunction = makeFunction('bands', {
      timeout: Duration.minutes(5),
      memorySize: 2048,
      environment: { ...environment, ALERT_TOPIC_ARN: alertTopic.topicArn },
    });

    // Least-privilege grants, action by action.
    const timestreamTables = { points: pointsTable, bands: bandsTable };
    const grantTimestream = (
      fn: NodejsFunction,
      actions: string[],
      tables: (keyof typeof timestreamTables)[],
    ) => {
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions,
          resources: tables.map((table) => timestreamTables[table].attrArn),
        }),
      );
    };
    for (const fn of [ingestFunction, queryFunction, bandsFunction]) {
      // Timestream's endpoint discovery has no resource to scope to: AWS requires "*" for this one action.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['timestream:DescribeEndpoints'],
          resources: ['*'],
        }),
      );
    }
    grantTimestream(ingestFunction, ['timestream:WriteRecords'], ['points']);
    grantTimestream(queryFunction, ['timestream:Select'], ['points', 'bands']);
    grantTimestream(bandsFunction, ['timestream:Select'], ['points', 'bands']);
    grantTimestream(bandsFunction, ['timestream:WriteRecords'], ['bands']);
    // PutItem and Scan: the admin routes create and list keys.
    stateTable.grant(
      ingestFunction,
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
    );
    stateTable.grant(queryFunction, 'dynamodb:GetItem', 'dynamodb:Scan');
    stateTable.grant(bandsFunction, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem');
    alertTopic.grantPublish(bandsFunction);

    // API
    const api = new HttpApi(this, 'Api', { description: 'Normalcy metrics API' });
    const integrations: Record<ApiFunction, HttpLambdaIntegration> = {
      ingest: new HttpLambdaIntegration('IngestIntegration', ingestFunction),
      query: new HttpLambdaIntegration('QueryIntegration', queryFunction),
    };
    for (const route of apiRoutes) {
      api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrations[route.function],
      });
    }

    // Schedule
    new Rule(this, 'BandSchedule', {
      schedule: Schedule.expression(settings.bandSchedule),
      targets: [new LambdaFunction(bandsFunction, { retryAttempts: 2 })],
    });

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'AlertTopicArn', { value: alertTopic.topicArn });
    new CfnOutput(this, 'StateTableName', { value: stateTable.tableName });
  }
}
