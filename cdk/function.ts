import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  type ICommandHooks,
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { type CfnLogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NormalcyFunctionProps {
  /** The file under functions/ (without .ts) that exports `handler`. */
  readonly entry: string;
  readonly root: string;
  readonly logRetention: RetentionDays;
  readonly environment: Record<string, string>;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly reservedConcurrentExecutions?: number;
  /** Commands run around bundling (e.g. copying documents beside the bundle). */
  readonly commandHooks?: ICommandHooks;
  readonly extra?: Partial<NodejsFunctionProps>;
}

/**
 * A Normalcy Lambda function: Node.js 24 on arm64, bundled and minified by esbuild (the AWS SDK comes from the
 * runtime), with its own log group (retention set, kept on stack deletion) and its own role that may write to
 * that log group and nothing else until grants are added.
 */
export class NormalcyFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: NormalcyFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Normalcy ${props.entry} function`,
      inlinePolicies: {
        logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              // The log group's ARN ends in ":*", covering the streams Lambda names at run time.
              resources: [this.logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${props.root}/functions/${props.entry}.ts`,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      projectRoot: props.root,
      depsLockFilePath: `${props.root}/package-lock.json`,
      environment: props.environment,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: {
        minify: true,
        sourceMap: true,
        // CommonJS: Node loads the runtime's SDK (CommonJS) by require() in half the time an ESM import of it
        // takes (no export-name analysis of each SDK module); see BENCHMARKS.md, "Lean functions".
        format: OutputFormat.CJS,
        target: 'node22',
        externalModules: ['@aws-sdk/*'],
        mainFields: ['module', 'main'],
        // esbuild's warnings and errors only, not its per-file size summary (five lines a function at synth).
        logLevel: LogLevel.WARNING,
        commandHooks: props.commandHooks,
      },
      ...props.extra,
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.logGroup.node.defaultChild as CfnLogGroup)}.Arn>]`,
      reason:
        'A log group ARN ends in ":*" so that the function can write the log streams Lambda names at run time.',
    });
  }
}
