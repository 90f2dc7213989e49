import { Duration, Stack } from 'aws-cdk-lib/core';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HandlerPackageProps, LogLevel, SweeperFunction } from './handler-package';

/** templates/deletion-hook.yaml as a construct (one per account and Region); every default is the template's. */
export interface DeletionHookProps extends HandlerPackageProps {
  /** Type name of the hook in this account (Namespace::Service::Name). @default 'Private::EcrSweeper::EmptyOnDelete' */
  readonly hookAlias?: string;
  /** FAIL stops a deletion the hook could not complete (and protects keep-on-delete); WARN only warns. @default 'FAIL' */
  readonly failureMode?: 'FAIL' | 'WARN';
  /** @default 'ENABLED' */
  readonly hookStatus?: 'ENABLED' | 'DISABLED';
  /** Stack names (wildcards) the hook covers. @default [] (every stack) */
  readonly includeStackNames?: string[];
  /** Stack names (wildcards) the hook never covers. @default [] */
  readonly excludeStackNames?: string[];
  /** Repository names the function may empty, an IAM pattern after "repository/". @default '*' */
  readonly repositoryScope?: string;
  /** Most concurrent BatchDeleteImage calls (ECRS_CONCURRENCY). @default 8 */
  readonly concurrency?: number;
  /** ECRS_LOG_LEVEL and Lambda's ApplicationLogLevel (JSON logs). @default 'info' */
  readonly logLevel?: LogLevel;
  /** Notified when the Failures alarm fires. @default the alarm only changes state */
  readonly alarmTopic?: sns.ITopic;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
}

const ALIAS_PATTERN = /^[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}$/;
const SCOPE_PATTERN = /^[a-z0-9._/*?-]{1,256}$/;

export class DeletionHook extends Construct {
  public readonly handler: SweeperFunction;
  public readonly hook: cloudformation.CfnLambdaHook;

  constructor(scope: Construct, id: string, props: DeletionHookProps = {}) {
    super(scope, id);
    const alias = props.hookAlias ?? 'Private::EcrSweeper::EmptyOnDelete';
    if (!ALIAS_PATTERN.test(alias) || /^aws/i.test(alias)) {
      throw new Error(`DeletionHook hookAlias must be Namespace::Service::Name not starting with AWS, got "${alias}"`);
    }
    const repositoryScope = props.repositoryScope ?? '*';
    if (!SCOPE_PATTERN.test(repositoryScope)) throw new Error(`DeletionHook repositoryScope "${repositoryScope}" is not a repository pattern`);
    const concurrency = props.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new Error(`DeletionHook concurrency must be 1 to 64, got ${concurrency}`);
    }
    const stack = Stack.of(this);
    this.handler = new SweeperFunction(this, 'Function', {
      ...props,
      description: 'ecr-sweeper stack-deletion hook (empties AWS::ECR::Repository before DELETE)',
      roleDescription: 'ecr-sweeper deletion hook function, least privilege to empty repositories in scope',
      // Hooks wait about 30 s for the function; the rest continues through IN_PROGRESS and callbackContext.
      timeout: Duration.seconds(30),
      mode: 'hook',
      logLevel: props.logLevel,
      alarmTopic: props.alarmTopic,
      memorySize: 256,
      logRetention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      environment: { ECRS_CONCURRENCY: String(concurrency) },
    });
    this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'EmptyRepositoriesInScope',
      // ListImages and BatchDeleteImage empty; DescribeImages is optional (indexes first); DescribeRepositories and
      // ListTagsForResource find the repository and its keep-on-delete tag. No BatchGetImage: the engine never calls it.
      actions: ['ecr:ListImages', 'ecr:BatchDeleteImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories',
        'ecr:ListTagsForResource'],
      resources: [`arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/${repositoryScope}`],
    }));
    // A repository the template did not name: its physical id comes from its stack.
    this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ResolveAutoNamedRepositories',
      actions: ['cloudformation:DescribeStackResource'],
      resources: [`arn:${stack.partition}:cloudformation:${stack.region}:${stack.account}:stack/*/*`],
    }));
    const executionRole = new iam.Role(this, 'HookExecutionRole', {
      description: 'Lets CloudFormation Hooks invoke the ecr-sweeper hook function, for this account only',
      // Confused-deputy guard: only Hooks acting for this account may assume the role.
      assumedBy: new iam.ServicePrincipal('hooks.cloudformation.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.handler.function.grantInvoke(executionRole);

    const include = props.includeStackNames ?? [];
    const exclude = props.excludeStackNames ?? [];
    this.hook = new cloudformation.CfnLambdaHook(this, 'Hook', {
      alias,
      lambdaFunction: this.handler.function.functionArn,
      executionRole: executionRole.roleArn,
      failureMode: props.failureMode ?? 'FAIL',
      hookStatus: props.hookStatus ?? 'ENABLED',
      targetOperations: ['RESOURCE'],
      // The repository's DELETE, before CloudFormation provisions it (the template's Actions/InvocationPoints/
      // TargetNames written as the one target they combine to).
      targetFilters: {
        targets: [{ action: 'DELETE', invocationPoint: 'PRE_PROVISION', targetName: 'AWS::ECR::Repository' }],
      },
      stackFilters: include.length || exclude.length ? {
        filteringCriteria: 'ALL',
        stackNames: {
          include: include.length ? include : undefined,
          exclude: exclude.length ? exclude : undefined,
        },
      } : undefined,
    });
  }
}
