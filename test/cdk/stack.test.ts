import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../cdk/settings.ts';
import { NormalcyStack } from '../../cdk/stack.ts';
import { apiRoutes } from '../../lib/http/routes.ts';

interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
}

let template: Template;
beforeAll(() => {
  const app = new App({
    context: { 'normalcy:alertEmail': 'ops@example.com', 'normalcy:memoryRetentionHours': 12 },
  });
  template = Template.fromStack(new NormalcyStack(app, 'Test'));
}, 120_000);

describe('NormalcyStack', () => {
  it('runs four arm64 Node.js 22 functions', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', Architectures: ['arm64'] },
      4,
    );
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
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish' })]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('BandsFunction') }],
    });
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
        .sort();
    };
    expect(actionsOn('BandsFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('AlertsFunction')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('IngestFunction')).toEqual([]);
    expect(actionsOn('QueryFunction')).toEqual([]);
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

  it('outputs the API URL and the alert topic ARN', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('AlertTopicArn', {});
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
