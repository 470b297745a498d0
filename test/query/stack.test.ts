import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NormalcyStack } from '../../cdk/stack.ts';

let app: App;
let template: Template;
beforeAll(() => {
  app = new App();
  template = Template.fromStack(new NormalcyStack(app, 'QueryTest'));
}, 120_000);

describe('the stack for the read side', () => {
  it('indexes the series catalog by (name, id), projecting only what listing filters on', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'catalog',
          KeySchema: [
            { AttributeName: 'catalogShard', KeyType: 'HASH' },
            { AttributeName: 'catalogKey', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['name', 'type', 'dimensions', 'anomalous'],
          },
        }),
      ]),
    });
  });

  it('lets the query function query the catalog index and batch-read the catalog', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:BatchGetItem']) }),
          Match.objectLike({
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Join': ['', [Match.anyValue(), '/index/catalog']] },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('QueryRole') }],
    });
  });

  it('routes GET / (the dashboard) and GET /v1/openapi.json to the query function', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /v1/openapi.json' });
  });

  it('bundles the dashboard page and the OpenAPI document beside the query function', () => {
    const assets = readdirSync(app.outdir)
      .map((name) => join(app.outdir, name))
      .filter((directory) => existsSync(join(directory, 'dashboard.html')));
    expect(assets).toHaveLength(1);
    const [directory = ''] = assets;
    expect(existsSync(join(directory, 'index.js'))).toBe(true);
    expect(readFileSync(join(directory, 'dashboard.html'), 'utf8')).toContain('<title>Normalcy</title>');
    expect(JSON.parse(readFileSync(join(directory, 'openapi.json'), 'utf8')).openapi).toBe('3.1.0');
  });
});
