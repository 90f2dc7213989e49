import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CreateOnPush, DeletionHook, ScheduledCleanup } from '../src';
import { fakeAssetDirectory } from './fixtures';

const assetDirectory = fakeAssetDirectory();

function synth(build: (stack: Stack) => void): Template {
  const stack = new Stack(new App(), 'Test');
  build(stack);
  return Template.fromStack(stack);
}

function statements(t: Template): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function variables(t: Template): Record<string, unknown> {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')) as any[];
  assert.equal(fns.length, 1);
  return fns[0].Properties.Environment.Variables;
}

/** The Failures alarm every template carries: Sum(Failures) > 0 for the mode, missing data not breaching. */
function expectFailuresAlarm(t: Template, mode: string): void {
  t.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'ecr-sweeper', MetricName: 'Failures', Statistic: 'Sum',
    // Its own function's failures only: [Mode, FunctionName], a dimension set the runtime writes (CDK sorts by name).
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('Function') } }, { Name: 'Mode', Value: mode }],
    Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', EvaluationPeriods: 1,
  });
}

describe('every account-wide construct', () => {
  it('logs JSON at the level it passes the handler, and alarms on its mode\'s Failures, notifying a topic when given', () => {
    const built: Array<[string, (s: Stack, topic?: sns.ITopic) => void]> = [
      ['scheduled-cleanup', (s, alarmTopic) => new ScheduledCleanup(s, 'X', { assetDirectory, logLevel: 'debug', alarmTopic })],
      ['hook', (s, alarmTopic) => new DeletionHook(s, 'X', { assetDirectory, logLevel: 'debug', alarmTopic })],
      ['create-on-push', (s, alarmTopic) => new CreateOnPush(s, 'X', { assetDirectory, logLevel: 'debug', alarmTopic })],
    ];
    for (const [mode, build] of built) {
      const t = synth((s) => build(s, new sns.Topic(s, 'Topic')));
      t.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN' },
        Environment: { Variables: { ECRS_LOG_LEVEL: 'debug' } },
      });
      expectFailuresAlarm(t, mode);
      const topic = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
      const quiet = synth((s) => build(s));
      quiet.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
    }
  });
});

describe('ScheduledCleanup', () => {
  it("defaults to the template's: a daily dry run keeping 100 images, 30 days, latest and release-*", () => {
    const t = synth((s) => new ScheduledCleanup(s, 'C', { assetDirectory }));
    assert.deepEqual(variables(t), {
      ECRS_LOG_LEVEL: 'info', DRY_RUN: 'true', KEEP_COUNT: '100', KEEP_DAYS: '30', KEEP_TAGS: 'latest,release-*',
      REPOSITORIES: '', REGIONS: '',
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900, Architectures: ['arm64'], Runtime: 'provided.al2023' });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const ecr = statements(t).find((s) => s.Sid === 'CleanRepositoriesOfThisAccount');
    assert.ok(ecr.Action.includes('ecr:BatchDeleteImage'));
    assert.match(JSON.stringify(ecr.Resource), /:repository\/\*/);
    // "*" only where the service takes no resource ARN.
    const star = statements(t).filter((s) => s.Resource === '*').map((s) => s.Sid).sort();
    assert.deepEqual(star, ['ListAppRunnerServices', 'ListEnabledRegions', 'ListLambdaFunctions', 'ReadWhatEcsRuns']);
  });

  it('passes every setting to the environment the handler reads and rejects what the template rejects', () => {
    const t = synth((s) => new ScheduledCleanup(s, 'C', {
      assetDirectory, dryRun: false, keepCount: 5, keepDays: 0, keepTags: ['v*'], repositories: ['team-*', 'web'],
      regions: ['us-east-1', 'eu-west-1'], logLevel: 'debug', architecture: lambda.Architecture.X86_64,
    }));
    assert.deepEqual(variables(t), {
      ECRS_LOG_LEVEL: 'debug', DRY_RUN: 'false', KEEP_COUNT: '5', KEEP_DAYS: '0', KEEP_TAGS: 'v*',
      REPOSITORIES: 'team-*,web', REGIONS: 'us-east-1,eu-west-1',
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
    assert.throws(() => synth((s) => new ScheduledCleanup(s, 'C', { assetDirectory, keepCount: -1 })), /keepCount/);
    assert.throws(() => synth((s) => new ScheduledCleanup(s, 'C', { assetDirectory, regions: ['US East'] })), /regions/);
  });
});

describe('DeletionHook', () => {
  it("is the template's Lambda hook on AWS::ECR::Repository DELETE, FAIL mode, every repository in scope", () => {
    const t = synth((s) => new DeletionHook(s, 'H', { assetDirectory }));
    const fn = Object.keys(t.findResources('AWS::Lambda::Function'))[0];
    t.hasResourceProperties('AWS::CloudFormation::LambdaHook', {
      Alias: 'Private::EcrSweeper::EmptyOnDelete', FailureMode: 'FAIL', HookStatus: 'ENABLED',
      TargetOperations: ['RESOURCE'], LambdaFunction: { 'Fn::GetAtt': [fn, 'Arn'] },
      TargetFilters: { Targets: [{ Action: 'DELETE', InvocationPoint: 'PRE_PROVISION', TargetName: 'AWS::ECR::Repository' }] },
      StackFilters: Match.absent(),
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30, Environment: { Variables: { ECRS_CONCURRENCY: '8', ECRS_LOG_LEVEL: 'info' } } });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { Service: 'hooks.cloudformation.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      })] },
    });
    const scope = statements(t).find((s) => s.Sid === 'EmptyRepositoriesInScope');
    assert.ok(scope.Action.includes('ecr:ListTagsForResource'), 'keep-on-delete needs the tags');
    assert.match(JSON.stringify(scope.Resource), /:repository\/\*"/);
    const invoke = statements(t).find((s) => s.Action === 'lambda:InvokeFunction');
    assert.ok(JSON.stringify(invoke.Resource).includes(fn));
  });

  it('filters stacks and narrows the repositories when asked', () => {
    const t = synth((s) => new DeletionHook(s, 'H', {
      assetDirectory, includeStackNames: ['ci-*'], excludeStackNames: ['ci-keep'], repositoryScope: 'ci-*',
      failureMode: 'WARN', hookAlias: 'Acme::Ecr::Empty',
    }));
    t.hasResourceProperties('AWS::CloudFormation::LambdaHook', {
      Alias: 'Acme::Ecr::Empty', FailureMode: 'WARN',
      StackFilters: { FilteringCriteria: 'ALL', StackNames: { Include: ['ci-*'], Exclude: ['ci-keep'] } },
    });
    const scope = statements(t).find((s) => s.Sid === 'EmptyRepositoriesInScope');
    assert.match(JSON.stringify(scope.Resource), /:repository\/ci-\*"/);
    assert.throws(() => synth((s) => new DeletionHook(s, 'H', { assetDirectory, hookAlias: 'AWS::Ecr::Empty' })), /hookAlias/);
  });
});

describe('CreateOnPush', () => {
  it("defaults to the template's governed settings and rule, granting only CreateRepository and TagResource", () => {
    const t = synth((s) => new CreateOnPush(s, 'P', { assetDirectory }));
    assert.deepEqual(variables(t), {
      ECRS_LOG_LEVEL: 'info', REPO_TAG_MUTABILITY: 'IMMUTABLE', REPO_SCAN_ON_PUSH: 'true', REPO_KMS_KEY: '',
      REPO_TAGS: '{}', REPO_LIFECYCLE_POLICY: '', REPO_POLICY: '', REPO_ALLOW: '', REPO_DENY: '',
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'], 'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['InitiateLayerUpload'], errorCode: ['RepositoryNotFoundException'] },
      },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30, MemorySize: 128 });
    const ecrActions = statements(t).filter((s) => JSON.stringify(s.Action).includes('ecr:')).flatMap((s) => [s.Action].flat());
    assert.deepEqual(ecrActions.sort(), ['ecr:CreateRepository', 'ecr:TagResource']);
  });

  it('grants the policy and key permissions only when those settings are given', () => {
    const t = synth((s) => new CreateOnPush(s, 'P', {
      assetDirectory, tagMutability: 'MUTABLE', scanOnPush: false, kmsKey: new kms.Key(s, 'K'),
      repositoryTags: { team: 'platform' }, lifecyclePolicy: { rules: [] }, repositoryPolicy: { Version: '2012-10-17', Statement: [] },
      allowPatterns: ['team-*/**'], denyPatterns: ['team-x/**', 'tmp'],
    }));
    const v = variables(t);
    assert.equal(v.REPO_TAG_MUTABILITY, 'MUTABLE');
    assert.equal(v.REPO_SCAN_ON_PUSH, 'false');
    assert.equal(v.REPO_TAGS, '{"team":"platform"}');
    assert.equal(v.REPO_LIFECYCLE_POLICY, '{"rules":[]}');
    assert.equal(v.REPO_ALLOW, 'team-*/**');
    assert.equal(v.REPO_DENY, 'team-x/**,tmp');
    assert.match(JSON.stringify(v.REPO_KMS_KEY), /Fn::GetAtt/);
    const sids = statements(t).map((s) => s.Sid);
    for (const sid of ['ApplyLifecyclePolicy', 'ApplyRepositoryPolicy', 'UseTheRepositoryKey']) assert.ok(sids.includes(sid), sid);
  });
});
