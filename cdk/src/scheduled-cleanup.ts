import { Duration, Stack } from 'aws-cdk-lib/core';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HandlerPackageProps, LogLevel, SweeperFunction } from './handler-package';

/** templates/scheduled-cleanup.yaml as a construct; every default is the template's. */
export interface ScheduledCleanupProps extends HandlerPackageProps {
  /** Only log the plan (DRY_RUN). @default true */
  readonly dryRun?: boolean;
  /** Newest images (digests) kept per repository (KEEP_COUNT). @default 100 */
  readonly keepCount?: number;
  /** Images pushed within this many days are kept (KEEP_DAYS). @default 30 */
  readonly keepDays?: number;
  /** Tag patterns (* and ?) always kept (KEEP_TAGS). @default ['latest', 'release-*'] */
  readonly keepTags?: string[];
  /** Repository name patterns cleaned besides the ecr-sweeper:enabled=true ones (REPOSITORIES). @default [] */
  readonly repositories?: string[];
  /** Regions to clean and scan, or ['all'] (REGIONS). @default [] (the stack's region) */
  readonly regions?: string[];
  /** @default events.Schedule.rate(Duration.days(1)) */
  readonly schedule?: events.Schedule;
  /** ECRS_LOG_LEVEL and Lambda's ApplicationLogLevel (JSON logs). @default 'info' */
  readonly logLevel?: LogLevel;
  /** Notified when the Failures alarm fires. @default the alarm only changes state */
  readonly alarmTopic?: sns.ITopic;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

const REGIONS_PATTERN = /^(all|[a-z0-9-]+(,[a-z0-9-]+)*)?$/;

export function nonNegativeInteger(name: string, value: number): string {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  return String(value);
}

export class ScheduledCleanup extends Construct {
  public readonly handler: SweeperFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledCleanupProps = {}) {
    super(scope, id);
    const regions = (props.regions ?? []).join(',');
    if (!REGIONS_PATTERN.test(regions)) throw new Error(`ScheduledCleanup regions: region names or ['all'], got "${regions}"`);
    this.handler = new SweeperFunction(this, 'Cleaner', {
      ...props,
      description: 'ecr-sweeper scheduled cleanup (EventBridge Scheduled Event)',
      roleDescription: 'ecr-sweeper scheduled cleanup, read what runs and delete unused images in this account',
      // The in-use scan of every region, then listing and deleting: Lambda's maximum.
      timeout: Duration.minutes(15),
      mode: 'scheduled-cleanup',
      logLevel: props.logLevel,
      alarmTopic: props.alarmTopic,
      memorySize: 256,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      environment: {
        DRY_RUN: (props.dryRun ?? true) ? 'true' : 'false',
        KEEP_COUNT: nonNegativeInteger('keepCount', props.keepCount ?? 100),
        KEEP_DAYS: nonNegativeInteger('keepDays', props.keepDays ?? 30),
        KEEP_TAGS: (props.keepTags ?? ['latest', 'release-*']).join(','),
        REPOSITORIES: (props.repositories ?? []).join(','),
        REGIONS: regions,
      },
    });
    const account = Stack.of(this).account;
    const partition = Stack.of(this).partition;
    const statements: Array<[string, string[], string[]]> = [
      // The planner needs DescribeImages (push dates, sizes, tags) and BatchGetImage (a kept index keeps its
      // children); deleting the plan lists nothing, so no ListImages.
      ['CleanRepositoriesOfThisAccount', ['ecr:DescribeRepositories', 'ecr:ListTagsForResource',
        'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:BatchDeleteImage'],
      [`arn:${partition}:ecr:*:${account}:repository/*`]],
      // ECS list/describe, lambda:ListFunctions, apprunner:ListServices and ec2:DescribeRegions take no resource ARN.
      ['ReadWhatEcsRuns', ['ecs:ListClusters', 'ecs:ListServices', 'ecs:DescribeServices', 'ecs:ListTasks',
        'ecs:DescribeTasks', 'ecs:DescribeTaskDefinition'], ['*']],
      ['ListLambdaFunctions', ['lambda:ListFunctions'], ['*']],
      ['ReadLambdaImageFunctions', ['lambda:ListVersionsByFunction', 'lambda:ListAliases', 'lambda:GetFunction'],
        [`arn:${partition}:lambda:*:${account}:function:*`]],
      ['ListAppRunnerServices', ['apprunner:ListServices'], ['*']],
      ['ReadAppRunnerServices', ['apprunner:DescribeService'], [`arn:${partition}:apprunner:*:${account}:service/*`]],
      ['ListEnabledRegions', ['ec2:DescribeRegions'], ['*']],
    ];
    for (const [sid, actions, resources] of statements) {
      this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    }
    // A failed scheduled run is not worth quick retries: the next schedule re-plans.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0 });
    // EventBridge rules deliver the "Scheduled Event" envelope (source aws.events) the handler recognises.
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'ecr-sweeper scheduled cleanup',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 0 })],
    });
  }
}
