import { App } from 'aws-cdk-lib';
import { NormalcyStack } from './stack.ts';

const app = new App();
new NormalcyStack(app, app.node.tryGetContext('normalcy:stackName') ?? 'Normalcy', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
