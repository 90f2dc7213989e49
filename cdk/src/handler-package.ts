import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * Where the ecr-sweeper Lambda zips come from. `npm run bundle` copies scripts/package's zips
 * (build/default/function-x86_64.zip, function-arm64.zip; function.zip is the x86_64 name) into the
 * package's assets/ folder; tests and monorepos point assetDirectory at any folder holding them.
 */
export interface HandlerPackageProps {
  /** Instruction set of the zip (and of the function). @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Folder holding function-<arch>.zip. @default the package's own assets/ folder */
  readonly assetDirectory?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

// Lambda's ApplicationLogLevel for each of the handler's levels: with JSON logs Lambda reads each line's "level".
const APPLICATION_LOG_LEVELS: Record<LogLevel, lambda.ApplicationLogLevel> = {
  debug: lambda.ApplicationLogLevel.DEBUG,
  info: lambda.ApplicationLogLevel.INFO,
  warn: lambda.ApplicationLogLevel.WARN,
  error: lambda.ApplicationLogLevel.ERROR,
};

// The runtime writes one embedded-metric record per invocation: namespace ecr-sweeper, metric Failures, dimension
// sets [Mode], [Mode, FunctionName] and [Mode, Repository]. The alarm reads [Mode, FunctionName], as the templates'
// do: Mode alone would count every function of the mode in the account and region, other stacks' included.
export const METRIC_NAMESPACE = 'ecr-sweeper';
export type SweeperMode = 'custom-resource' | 'hook' | 'scheduled-cleanup' | 'create-on-push';

// lib/src/handler-package.js -> <package>/assets
export const DEFAULT_ASSET_DIRECTORY = path.resolve(__dirname, '..', '..', 'assets');

export function architectureOf(props: HandlerPackageProps): lambda.Architecture {
  const arch = props.architecture ?? lambda.Architecture.ARM_64;
  if (arch.name !== lambda.Architecture.ARM_64.name && arch.name !== lambda.Architecture.X86_64.name) {
    throw new Error(`ecr-sweeper is built for x86_64 and arm64 only, not ${arch.name}`);
  }
  return arch;
}

/** The zip for one architecture; a missing zip fails synthesis with what to run, not CDK's bare "Cannot find asset". */
export function handlerZip(props: HandlerPackageProps): string {
  const dir = props.assetDirectory ?? DEFAULT_ASSET_DIRECTORY;
  const zip = path.join(dir, `function-${architectureOf(props).name}.zip`);
  if (!fs.existsSync(zip)) {
    throw new Error(`ecr-sweeper handler package ${zip} is missing: build it with scripts/package ` +
      `(architecture ${architectureOf(props).name}), then run "npm run bundle" in cdk/, or pass assetDirectory`);
  }
  return zip;
}

export interface SweeperFunctionOptions extends HandlerPackageProps {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Besides ECRS_LOG_LEVEL, which logLevel sets. */
  readonly environment: Record<string, string>;
  readonly logLevel?: LogLevel;
  readonly logRetention: logs.RetentionDays;
  /** The Mode dimension of the Failures metric this function's invocations write. */
  readonly mode: SweeperMode;
  /** Notified when the Failures alarm fires. @default the alarm only changes state */
  readonly alarmTopic?: sns.ITopic;
  /** Role description; the role starts with no permissions besides its own log group. */
  readonly roleDescription: string;
}

/**
 * A provided.al2023 function running bootstrap, its own role, a retained log group with JSON logs, and the alarm
 * on its mode's Failures metric, as every template has.
 */
export class SweeperFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly failuresAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, options: SweeperFunctionOptions) {
    super(scope, id);
    // Retained so the log lines of the last run (a teardown, a deletion) survive the stack; retention bounds them.
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      description: options.roleDescription,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // Only its own log group: no AWSLambdaBasicExecutionRole (logs:* on every group).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.function = new lambda.Function(this, 'Function', {
      description: options.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      architecture: architectureOf(options),
      code: lambda.Code.fromAsset(handlerZip(options)),
      role: this.role,
      timeout: options.timeout,
      memorySize: options.memorySize,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: APPLICATION_LOG_LEVELS[options.logLevel ?? 'info'],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: { ECRS_LOG_LEVEL: options.logLevel ?? 'info', ...options.environment },
    });
    // Missing data is a quiet period, not a failure.
    this.failuresAlarm = new cloudwatch.Alarm(this, 'FailuresAlarm', {
      alarmDescription: `ecr-sweeper (${options.mode}) reported a failed run; its JSON log lines say which repository and call`,
      metric: new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: 'Failures',
        dimensionsMap: { Mode: options.mode, FunctionName: this.function.functionName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (options.alarmTopic) this.failuresAlarm.addAlarmAction(new cloudwatchActions.SnsAction(options.alarmTopic));
  }
}
