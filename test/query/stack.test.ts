import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NormalcyStack } from '../../cdk/stack.ts';
import { apiRoutes, servedRoutes } from '../../lib/http/routes.ts';

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

  it('routes HEAD beside every GET route (HTTP APIs match methods exactly), to the same function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (resource) => (resource as { Properties: { RouteKey: string; Target: unknown } }).Properties,
    );
    const targetOf = (key: string) => JSON.stringify(routes.find((route) => route.RouteKey === key)?.Target);
    for (const route of apiRoutes.filter((candidate) => candidate.method === 'GET')) {
      expect(targetOf(`HEAD ${route.path}`), route.path).toBe(targetOf(`GET ${route.path}`));
    }
    expect(routes).toHaveLength(servedRoutes.length);
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
