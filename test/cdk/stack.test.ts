import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandJobHeapFlags } from '../../cdk/band-job-node-options.ts';
import { readSettings, scheduleIntervalMs } from '../../cdk/settings.ts';
import { NormalcyStack, timestreamClosedWarning } from '../../cdk/stack.ts';
import { apiRoutes } from '../../lib/http/routes.ts';

interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
}

/**
 * Context for the stacks whose template alone is under test: no function is bundled (esbuild, the dashboard
 * build), which only takes time and prints a screen of output. The cdk-nag synth below and
 * test/query/stack.test.ts bundle for real, as `npm run synth` does.
 */
const templateOnly = { 'aws:cdk:bundling-stacks': [] };

let template: Template;
beforeAll(() => {
  const app = new App({
    context: {
      ...templateOnly,
      'normalcy:alertEmail': 'ops@example.com',
      'normalcy:memoryRetentionHours': 12,
    },
  });
  template = Template.fromStack(new NormalcyStack(app, 'Test'));
}, 120_000);

describe('NormalcyStack', () => {
  it('runs four arm64 Node.js 24 functions with their own log groups', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs24.x', Architectures: ['arm64'], LoggingConfig: { LogGroup: Match.anyValue() } },
      4,
    );
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('runs one band job at a time, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: 300,
      Environment: { Variables: Match.objectLike({ ALERT_TOPIC_ARN: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: Match.anyValue() }),
      ],
    });
  });

  it('alarms on errors, throttles, dead letters, ingest rejections and quarantined series to the operations topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(11);
    const operationsTopic = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) =>
      id.startsWith('OperationsTopic'),
    );
    for (const alarm of alarms) {
      expect((alarm as { Properties: { AlarmActions: unknown[] } }).Properties.AlarmActions).toEqual([
        { Ref: operationsTopic },
      ]);
    }
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [
        Match.objectLike({ MetricName: 'RejectedItems', MetricValue: '$.rejectedItems' }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [
        Match.objectLike({ MetricName: 'QuarantinedSeries', MetricValue: '$.seriesQuarantined' }),
      ],
    });
  });

  it('throttles the API stage and logs access by route template, never by raw path', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: { Format: Match.stringLikeRegexp('routeKey') },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
      Properties: { AccessLogSettings: { Format: string } };
    };
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/context\.path|rawPath/);
  });

  it('retains data tables and logs when the stack is deleted', () => {
    const retained = [
      'AWS::Timestream::Table',
      'AWS::Timestream::Database',
      'AWS::DynamoDB::GlobalTable',
      'AWS::Logs::LogGroup',
    ].flatMap((type) => Object.values(template.findResources(type)));
    expect(retained.length).toBe(2 + 1 + 2 + 5);
    for (const resource of retained)
      expect((resource as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
  });

  it('creates every API route on the HTTP API', () => {
    for (const route of apiRoutes) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method} ${route.path}`,
      });
    }
  });

  it('keeps points and bands in Timestream with retentions from context and magnetic writes on', () => {
    template.resourceCountIs('AWS::Timestream::Table', 2);
    template.allResourcesProperties('AWS::Timestream::Table', {
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: '12',
        MagneticStoreRetentionPeriodInDays: '400',
      },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
  });

  it('runs the band job on a schedule and subscribes the alert email', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('grants no wildcard action, and a wildcard resource only for Timestream endpoint discovery', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }).Properties
          .PolicyDocument.Statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      for (const action of actions) expect(action).not.toMatch(/\*/);
      if (statement.Resource === '*') expect(actions).toEqual(['timestream:DescribeEndpoints']);
    }
  });

  it('lets only the band function publish alerts, and only the ingest function write points', () => {
    const rolesAllowed = (action: string, resourceLike: RegExp) =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => {
        const { PolicyDocument, Roles } = (
          policy as {
            Properties: { PolicyDocument: { Statement: PolicyStatementJson[] }; Roles: { Ref: string }[] };
          }
        ).Properties;
        const grants = PolicyDocument.Statement.some(
          (statement) =>
            [statement.Action].flat().includes(action) &&
            resourceLike.test(JSON.stringify(statement.Resource)),
        );
        return grants ? Roles.map((role) => role.Ref) : [];
      });
    expect(rolesAllowed('sns:Publish', /AlertTopic/)).toEqual([expect.stringMatching(/^BandsRole/)]);
    expect(rolesAllowed('timestream:WriteRecords', /PointsTable/)).toEqual([
      expect.stringMatching(/^IngestRole/),
    ]);
    expect(rolesAllowed('timestream:WriteRecords', /BandsTable/)).toEqual([
      expect.stringMatching(/^BandsRole/),
    ]);
  });

  it('keeps alert state in its own table, with the delivery outbox and alerts-by-state indexes', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'pendingTransitions',
          KeySchema: [
            { AttributeName: 'pendingShard', KeyType: 'HASH' },
            { AttributeName: 'deliverOrder', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'alertsByState',
          KeySchema: [
            { AttributeName: 'alertState', KeyType: 'HASH' },
            { AttributeName: 'startedAt', KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('grants the alert table action by action: the band job records and delivers, the API manages', () => {
    const alertTable = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).find((id) =>
      id.startsWith('AlertTable'),
    );
    expect(alertTable).toBeDefined();
    const actionsOn = (role: string) => {
      const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
        Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: PolicyStatementJson[] } };
      }[];
      return policies
        .filter((policy) => policy.Properties.Roles.some((r) => r.Ref.startsWith(role)))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) => JSON.stringify(statement.Resource).includes(alertTable ?? '?'))
        .flatMap((statement) => [statement.Action].flat())
        .filter((action, index, all) => all.indexOf(action) === index)
        .sort();
    };
    expect(actionsOn('BandsRole')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('AlertsRole')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('IngestRole')).toEqual([]);
    expect(actionsOn('QueryRole')).toEqual([]);
  });

  it('runs the band job with the V8 heap sizes bench:bands measures it with', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ALERT_TOPIC_ARN: Match.anyValue(),
          NODE_OPTIONS: `--enable-source-maps ${bandJobHeapFlags.join(' ')}`,
        }),
      },
    });
  });

  it('tells the band job its alert table and where alert links point', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ALERT_TABLE: { Ref: Match.stringLikeRegexp('AlertTable') },
          ALERT_TOPIC_ARN: Match.anyValue(),
          NORMALCY_DASHBOARD_URL: Match.anyValue(),
        }),
      },
    });
  });

  it('keeps the band job state in an encrypted, private, versioned bucket, retained, old versions expiring', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 1 } })],
        },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets the band function read and write its state objects (its shards by their key pattern), and the query function read the summaries', () => {
    const objectsOf = (role: string, action: string) =>
      (
        Object.values(template.findResources('AWS::IAM::Policy')) as {
          Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: PolicyStatementJson[] } };
        }[]
      )
        .filter((policy) => policy.Properties.Roles.some((r) => r.Ref.startsWith(role)))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) => [statement.Action].flat().includes(action))
        .flatMap((statement) => [statement.Resource].flat())
        .map((resource) => JSON.stringify(resource).match(/\/(state\/[^"]+)"/)?.[1])
        .filter((key) => key !== undefined);
    // The shards of every count (a changed count re-shards from the old ones), the layout record, the summaries.
    const objects = ['state/layout.json.gz', 'state/shards/*.json.gz', 'state/summaries.json.gz'];
    expect(objectsOf('BandsRole', 's3:PutObject').sort()).toEqual(objects);
    expect(objectsOf('BandsRole', 's3:GetObject').sort()).toEqual(objects);
    expect(objectsOf('QueryRole', 's3:GetObject')).toEqual(['state/summaries.json.gz']);
    expect(objectsOf('QueryRole', 's3:PutObject')).toEqual([]);
    expect(objectsOf('AlertsRole', 's3:GetObject')).toEqual(['state/summaries.json.gz']);
    expect(objectsOf('AlertsRole', 's3:PutObject')).toEqual([]);
    expect(objectsOf('IngestRole', 's3:GetObject')).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ STATE_BUCKET: Match.anyValue(), NORMALCY_STATE_SHARDS: '16' }),
      },
    });
  });

  it('outputs the API URL and the alert topic ARN', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('AlertTopicArn', {});
  });

  /** The statements of the IAM policies attached to the role whose logical id starts with `role`. */
  const statementsOf = (role: string) =>
    (
      Object.values(template.findResources('AWS::IAM::Policy')) as {
        Properties: {
          Roles: { Ref: string }[];
          PolicyDocument: { Statement: (PolicyStatementJson & { Condition?: unknown })[] };
        };
      }[]
    )
      .filter((policy) => policy.Properties.Roles.some((r) => r.Ref.startsWith(role)))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  const logicalId = (type: string, prefix: string) =>
    Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix)) ?? `no ${prefix}`;

  it('lets the alerts function read points and bands for replays, and write neither', () => {
    const onTables = (action: string) =>
      statementsOf('AlertsRole')
        .filter((statement) => [statement.Action].flat().includes(action))
        .flatMap((statement) => [statement.Resource].flat())
        .map((resource) => JSON.stringify(resource).match(/"(PointsTable|BandsTable)[0-9A-F]*"/)?.[1])
        .filter((table) => table !== undefined)
        .sort();
    expect(onTables('timestream:Select')).toEqual(['BandsTable', 'PointsTable']);
    expect(onTables('timestream:WriteRecords')).toEqual([]);
    const alertsFunction = template.findResources('AWS::Lambda::Function')[
      logicalId('AWS::Lambda::Function', 'Alerts')
    ] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(Object.keys(alertsFunction.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['STATE_BUCKET', 'TIMESTREAM_POINTS_TABLE', 'TIMESTREAM_BANDS_TABLE']),
    );
  });

  it('encrypts each SNS topic with a customer-managed KMS key of its own, rotated', () => {
    const topics = template.findResources('AWS::SNS::Topic') as Record<
      string,
      { Properties: { KmsMasterKeyId?: unknown } }
    >;
    expect(Object.keys(topics)).toHaveLength(2);
    for (const [id, topic] of Object.entries(topics)) {
      const key = logicalId('AWS::KMS::Key', `${id.replace(/Topic.*$/, '')}TopicKey`);
      expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    }
    template.resourcePropertiesCountIs('AWS::KMS::Key', { EnableKeyRotation: true }, 2);
  });

  it('lets each publisher use only its topic key: CloudWatch alarms the operations key, the band job the alert key', () => {
    type KeyStatement = { Principal: Record<string, unknown>; Action: unknown; Condition?: unknown };
    const servicesAllowed = (prefix: string) =>
      (
        template.findResources('AWS::KMS::Key')[logicalId('AWS::KMS::Key', prefix)] as {
          Properties: { KeyPolicy: { Statement: KeyStatement[] } };
        }
      ).Properties.KeyPolicy.Statement.filter((statement) => 'Service' in statement.Principal);
    expect(servicesAllowed('AlertTopicKey')).toEqual([]);
    expect(servicesAllowed('OperationsTopicKey')).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Condition: { StringLike: { 'kms:EncryptionContext:aws:sns:topicArn': expect.anything() } },
      }),
    ]);
    const kmsUsers = ['IngestRole', 'QueryRole', 'AlertsRole', 'BandsRole'].filter((role) =>
      statementsOf(role).some((statement) => JSON.stringify(statement.Action).includes('kms:')),
    );
    expect(kmsUsers).toEqual(['BandsRole']);
    expect(statementsOf('BandsRole').filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([
      expect.objectContaining({
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'AlertTopicKey'), 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:EncryptionContext:aws:sns:topicArn': { Ref: logicalId('AWS::SNS::Topic', 'AlertTopic') },
          },
        },
      }),
    ]);
  });

  it('generates the API key secret, kept with the state table, readable only by the functions that check keys', () => {
    const secret = logicalId('AWS::SecretsManager::Secret', 'KeySecret');
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
      },
    });
    const readers = ['IngestRole', 'QueryRole', 'AlertsRole', 'BandsRole'].filter((role) =>
      statementsOf(role).some((statement) => JSON.stringify(statement.Resource).includes(secret)),
    );
    expect(readers).toEqual(['IngestRole', 'QueryRole', 'AlertsRole']);
    for (const role of readers) {
      expect(
        statementsOf(role).filter((statement) => JSON.stringify(statement.Resource).includes(secret)),
      ).toEqual([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret } }),
      ]);
    }
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Environment: { Variables: Match.objectLike({ KEY_SECRET_ARN: { Ref: secret } }) } },
      3,
    );
    template.hasOutput('KeySecretArn', { Value: { Ref: secret } });
  });

  it('lets the functions that check keys refile a key of the old kind, on key items only', () => {
    for (const role of ['IngestRole', 'QueryRole', 'AlertsRole']) {
      expect(statementsOf(role)).toContainEqual(
        expect.objectContaining({
          Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['KEY#*'] } },
        }),
      );
    }
    const deletes = statementsOf('').filter((statement) =>
      [statement.Action].flat().includes('dynamodb:DeleteItem'),
    );
    for (const statement of deletes) {
      if (JSON.stringify(statement.Resource).includes('StateTable')) {
        expect(statement.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['KEY#*'] },
        });
      }
    }
  });
});

describe.each(['timestream', 'dynamodb'])('NormalcyStack with store=%s', (store) => {
  it('passes cdk-nag AwsSolutions with every acknowledgement justified', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'normalcy-nag-'));
    // The DynamoDB stack also reads Alertmanager's URL from a secret (its grant is checked too).
    const secret = store === 'dynamodb' ? { 'normalcy:alertmanagerSecret': 'normalcy/alertmanager' } : {};
    const app = new App({ outdir, context: { 'normalcy:store': store, ...secret } });
    new NormalcyStack(app, 'Nag');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
    };
    const nag = report.pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions');
    expect(nag?.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
    expect(failure).toBeUndefined();
  });
});

describe('the store choice at synth', () => {
  const warnings = (context: Record<string, unknown>) =>
    Annotations.fromStack(new NormalcyStack(new App({ context: { ...templateOnly, ...context } }), 'Choice'))
      .findWarning('*', Match.anyValue())
      .map((warning) => String(warning.entry.data));

  it('warns that Timestream is closed to new customers when it is chosen or left as the default', () => {
    const closed = expect.stringContaining('closed to new AWS customers since 2025-06-20');
    expect(warnings({})).toEqual([expect.stringContaining(timestreamClosedWarning)]);
    expect(warnings({ 'normalcy:store': 'timestream' })).toEqual([closed]);
    expect(warnings({ 'normalcy:store': 'timestream' })[0]).toContain('-c normalcy:store=dynamodb');
  });

  it('says nothing of Timestream when DynamoDB is chosen', () => {
    expect(warnings({ 'normalcy:store': 'dynamodb' }).filter((text) => /Timestream/.test(text))).toEqual([]);
  });
});

describe('NormalcyStack with store=dynamodb', () => {
  let dynamo: Template;
  beforeAll(() => {
    const app = new App({
      context: { ...templateOnly, 'normalcy:store': 'dynamodb', 'normalcy:dynamoRetentionDays': 90 },
    });
    dynamo = Template.fromStack(new NormalcyStack(app, 'Dynamo'));
  }, 120_000);

  it('creates no Timestream resource and a data table with TTL and the anomalies index', () => {
    dynamo.resourceCountIs('AWS::Timestream::Database', 0);
    dynamo.resourceCountIs('AWS::Timestream::Table', 0);
    dynamo.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'anomalies' })],
    });
  });

  it('tells the functions which store to use and how long to keep data', () => {
    dynamo.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      {
        Environment: {
          Variables: Match.objectLike({ NORMALCY_STORE: 'dynamodb', DATA_RETENTION_DAYS: '90' }),
        },
      },
      4,
    );
  });

  it('grants no timestream action and no wildcard', () => {
    const statements = Object.values(dynamo.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }).Properties
          .PolicyDocument.Statement,
    );
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) {
        expect(action).not.toMatch(/^timestream:|\*/);
      }
      expect(statement.Resource).not.toBe('*');
    }
  });
});

describe('Stack settings', () => {
  const settings = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

  it('points alert links at the dashboard URL from context, or leaves the API URL to the stack', () => {
    expect(settings({ 'normalcy:dashboardUrl': 'https://dash.example.com' }).dashboardUrl).toBe(
      'https://dash.example.com',
    );
    expect(settings({}).dashboardUrl).toBeUndefined();
    expect(() => settings({ 'normalcy:dashboardUrl': 'dash.example.com' })).toThrow(
      'context normalcy:dashboardUrl must be an http(s) URL',
    );
  });
});

describe('Alertmanager from context', () => {
  it('passes normalcy:alertmanagerUrl and the schedule interval to the band function only', () => {
    const app = new App({
      context: {
        ...templateOnly,
        'normalcy:alertmanagerUrl': 'https://am.example.com:9093',
        'normalcy:bandSchedule': 'rate(2 minutes)',
      },
    });
    const stack = Template.fromStack(new NormalcyStack(app, 'WithAlertmanager'));
    const withUrl = Object.values(stack.findResources('AWS::Lambda::Function')).filter(
      (resource) =>
        resource.Properties?.Environment?.Variables?.NORMALCY_ALERTMANAGER_URL ===
        'https://am.example.com:9093',
    );
    expect(withUrl).toHaveLength(1);
    expect(withUrl[0]?.Properties.Environment.Variables).toMatchObject({
      ALERT_TOPIC_ARN: expect.anything(),
      NORMALCY_BAND_INTERVAL_MS: '120000',
    });
    // Without it, no function hears of Alertmanager.
    expect(JSON.stringify(template.toJSON())).not.toContain('NORMALCY_ALERTMANAGER_URL');
    expect(() => readSettings(new App({ context: { 'normalcy:alertmanagerUrl': 'am:9093' } }).node)).toThrow(
      'context normalcy:alertmanagerUrl must be an http(s) URL',
    );
    expect([scheduleIntervalMs('rate(1 minute)'), scheduleIntervalMs('cron(0/5 * * * ? *)')]).toEqual([
      60_000,
      undefined,
    ]);
  }, 120_000);
});

describe('The DynamoDB table class from context', () => {
  it('makes the data table Standard-Infrequent Access when asked, and says nothing of the class otherwise', () => {
    const tables = (context: Record<string, unknown>) =>
      Object.values(
        Template.fromStack(
          new NormalcyStack(
            new App({ context: { ...templateOnly, 'normalcy:store': 'dynamodb', ...context } }),
            'TableClass',
          ),
        ).findResources('AWS::DynamoDB::GlobalTable'),
      ).flatMap((table) =>
        (table.Properties.Replicas as { TableClass?: string }[]).map((replica) => replica.TableClass),
      );
    expect(tables({ 'normalcy:dynamoTableClass': 'infrequent-access' })).toContain(
      'STANDARD_INFREQUENT_ACCESS',
    );
    expect(tables({}).every((tableClass) => tableClass === undefined)).toBe(true);
    expect(() => readSettings(new App({ context: { 'normalcy:dynamoTableClass': 'cheap' } }).node)).toThrow(
      'context normalcy:dynamoTableClass must be one of standard, infrequent-access, got cheap',
    );
  }, 120_000);
});

describe('Alertmanager from a Secrets Manager secret', () => {
  it('names the secret to the band function, lets it read that secret only, and keeps the URL out of the template', () => {
    const app = new App({
      context: { ...templateOnly, 'normalcy:alertmanagerSecret': 'normalcy/alertmanager' },
    });
    const stack = Template.fromStack(new NormalcyStack(app, 'WithAlertmanagerSecret'));
    const named = Object.values(stack.findResources('AWS::Lambda::Function')).filter(
      (resource) =>
        resource.Properties?.Environment?.Variables?.NORMALCY_ALERTMANAGER_SECRET === 'normalcy/alertmanager',
    );
    expect(named).toHaveLength(1);
    expect(named[0]?.Properties.Environment.Variables.NORMALCY_ALERTMANAGER_URL).toBeUndefined();
    const statements = Object.values(stack.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
    );
    const reads = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes(':secret:normalcy/alertmanager-??????'),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Action).toBe('secretsmanager:GetSecretValue');
    expect(() =>
      readSettings(
        new App({
          context: {
            'normalcy:alertmanagerSecret': 'normalcy/alertmanager',
            'normalcy:alertmanagerUrl': 'https://am.example.com',
          },
        }).node,
      ),
    ).toThrow('give one of them, not both');
    expect(() =>
      readSettings(
        new App({
          context: {
            'normalcy:alertmanagerSecret': 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:am-AbCdEf',
          },
        }).node,
      ),
    ).toThrow('must be the name of a Secrets Manager secret');
  }, 120_000);
});

describe('Band settings from the environment', () => {
  it('reads the default sensitivity the stack sets, and refuses one out of range', async () => {
    const { bandSettingsFromEnvironment } = await import('../../lib/bands/settings-from-env.ts');
    expect(bandSettingsFromEnvironment({ NORMALCY_SENSITIVITY: '0.7' })).toEqual({ sensitivity: 0.7 });
    expect(bandSettingsFromEnvironment({})).toEqual({});
    expect(() => bandSettingsFromEnvironment({ NORMALCY_SENSITIVITY: '7' })).toThrow(/from 0 to 1/);
  });

  it('passes normalcy:sensitivity, normalcy:minStepSeconds and normalcy:timeZone to the band function', () => {
    const app = new App({
      context: {
        ...templateOnly,
        'normalcy:sensitivity': 0.8,
        'normalcy:minStepSeconds': 300,
        'normalcy:timeZone': 'Europe/Paris',
      },
    });
    const sensitive = Template.fromStack(new NormalcyStack(app, 'Sensitive'));
    sensitive.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NORMALCY_SENSITIVITY: '0.8',
          NORMALCY_MIN_STEP_SECONDS: '300',
          NORMALCY_TIME_ZONE: 'Europe/Paris',
        }),
      },
    });
    expect(readSettings(new App().node).timeZone).toBe('UTC');
    expect(() => readSettings(new App({ context: { 'normalcy:timeZone': 'Paris' } }).node)).toThrow(
      'context normalcy:timeZone must be an IANA time zone such as Europe/Paris, got Paris',
    );
    expect(() => readSettings(new App({ context: { 'normalcy:minStepSeconds': 45 } }).node)).toThrow(
      /must be a number from 60/,
    );
    expect(() => readSettings(new App({ context: { 'normalcy:minStepSeconds': 420 } }).node)).toThrow(
      /must be one of 60, 120, 300/,
    );
  }, 120_000);

  it('reads the smallest step from the environment, one of the kept steps', async () => {
    const { minStepFromEnvironment } = await import('../../lib/bands/settings-from-env.ts');
    expect(minStepFromEnvironment({ NORMALCY_MIN_STEP_SECONDS: '300' })).toBe(300_000);
    expect(minStepFromEnvironment({})).toBeUndefined();
    expect(() => minStepFromEnvironment({ NORMALCY_MIN_STEP_SECONDS: '7' })).toThrow(/must be one of/);
  });
});
