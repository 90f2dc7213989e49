import { Duration, Stack } from 'aws-cdk-lib/core';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HandlerPackageProps, LogLevel, SweeperFunction } from './handler-package';

/**
 * templates/create-on-push.yaml as a construct; every default is the template's. CloudTrail must record
 * management events in the Region (the default event history is enough for EventBridge).
 */
export interface CreateOnPushProps extends HandlerPackageProps {
  /** imageTagMutability of created repositories (REPO_TAG_MUTABILITY). @default 'IMMUTABLE' */
  readonly tagMutability?: 'IMMUTABLE' | 'MUTABLE';
  /** Basic scanning on push (REPO_SCAN_ON_PUSH). @default true */
  readonly scanOnPush?: boolean;
  /** KMS key for encryptionType KMS (REPO_KMS_KEY). @default AES256 */
  readonly kmsKey?: kms.IKey;
  /** Resource tags (REPO_TAGS); ecr-sweeper:enabled=true is always added. @default {} */
  readonly repositoryTags?: Record<string, string>;
  /** Lifecycle policy applied to each created repository (REPO_LIFECYCLE_POLICY). @default none */
  readonly lifecyclePolicy?: object;
  /** Repository policy (REPO_POLICY). @default none */
  readonly repositoryPolicy?: object;
  /** Globs a name must match (REPO_ALLOW): * within a segment, ** across. @default [] (every name) */
  readonly allowPatterns?: string[];
  /** Globs never created (REPO_DENY). @default [] */
  readonly denyPatterns?: string[];
  /** ECRS_LOG_LEVEL and Lambda's ApplicationLogLevel (JSON logs). @default 'info' */
  readonly logLevel?: LogLevel;
  /** Notified when the Failures alarm fires. @default the alarm only changes state */
  readonly alarmTopic?: sns.ITopic;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
}

export class CreateOnPush extends Construct {
  public readonly handler: SweeperFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: CreateOnPushProps = {}) {
    super(scope, id);
    this.handler = new SweeperFunction(this, 'Handler', {
      ...props,
      description: 'ecr-sweeper create-on-push handler',
      roleDescription: 'ecr-sweeper create-on-push, least privilege to create repositories in this Region',
      // One CreateRepository and up to two policy calls; docker retries the push meanwhile.
      timeout: Duration.seconds(30),
      mode: 'create-on-push',
      logLevel: props.logLevel,
      alarmTopic: props.alarmTopic,
      memorySize: 128,
      logRetention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      environment: {
        REPO_TAG_MUTABILITY: props.tagMutability ?? 'IMMUTABLE',
        REPO_SCAN_ON_PUSH: (props.scanOnPush ?? true) ? 'true' : 'false',
        REPO_KMS_KEY: props.kmsKey?.keyArn ?? '',
        REPO_TAGS: JSON.stringify(props.repositoryTags ?? {}),
        REPO_LIFECYCLE_POLICY: props.lifecyclePolicy ? JSON.stringify(props.lifecyclePolicy) : '',
        REPO_POLICY: props.repositoryPolicy ? JSON.stringify(props.repositoryPolicy) : '',
        REPO_ALLOW: (props.allowPatterns ?? []).join(','),
        REPO_DENY: (props.denyPatterns ?? []).join(','),
      },
    });
    const stack = Stack.of(this);
    const repositories = `arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/*`;
    const grant = (sid: string, actions: string[], resources: string[]) =>
      this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    // Tags are given in CreateRepository itself, which needs ecr:TagResource too.
    grant('CreateTaggedRepositories', ['ecr:CreateRepository', 'ecr:TagResource'], [repositories]);
    if (props.lifecyclePolicy) grant('ApplyLifecyclePolicy', ['ecr:PutLifecyclePolicy'], [repositories]);
    if (props.repositoryPolicy) grant('ApplyRepositoryPolicy', ['ecr:SetRepositoryPolicy'], [repositories]);
    // ECR creates a grant on the customer key for each KMS-encrypted repository.
    if (props.kmsKey) grant('UseTheRepositoryKey', ['kms:CreateGrant', 'kms:DescribeKey'], [props.kmsKey.keyArn]);

    // EventBridge invokes asynchronously; the handler fails only on transient AWS errors, worth Lambda's retries.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.minutes(5) });
    this.rule = new events.Rule(this, 'PushToMissingRepository', {
      description: 'A push that found no repository (CloudTrail InitiateLayerUpload RepositoryNotFoundException)',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ecr.amazonaws.com'],
          eventName: ['InitiateLayerUpload'],
          errorCode: ['RepositoryNotFoundException'],
        },
      },
      targets: [new targets.LambdaFunction(this.handler.function)],
    });
  }
}
