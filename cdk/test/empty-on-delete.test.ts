import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { EmptyOnDelete } from '../src';
import { fakeAssetDirectory } from './fixtures';

const assetDirectory = fakeAssetDirectory();

function stackWith(build: (stack: Stack) => void): Template {
  const app = new App();
  const stack = new Stack(app, 'Test');
  build(stack);
  return Template.fromStack(stack);
}

function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  assert.equal(ids.length, 1, `one ${type}, found ${ids.join(', ')}`);
  return ids[0];
}

/** Every Allow statement of every policy attached to the handler's role, flattened. */
function handlerStatements(template: Template): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('EmptyOnDelete', () => {
  it('creates the custom resource with the properties the handler reads, depending on the repository', () => {
    const t = stackWith((stack) => {
      const repository = new ecr.Repository(stack, 'Repo', { removalPolicy: RemovalPolicy.DESTROY });
      new EmptyOnDelete(stack, 'Empty', { repository, assetDirectory });
    });
    const repo = onlyLogicalId(t, 'AWS::ECR::Repository');
    const resources = t.findResources('Custom::EmptyEcrRepository');
    const [id] = Object.keys(resources);
    const cr = resources[id];
    assert.deepEqual(Object.keys(cr.Properties).sort(), ['DryRun', 'RepositoryName', 'ServiceTimeout', 'ServiceToken']);
    assert.deepEqual(cr.Properties.RepositoryName, { Ref: repo });
    assert.equal(cr.Properties.DryRun, 'false');
    assert.equal(cr.Properties.ServiceTimeout, '1500'); // a string, as in the templates
    const fn = onlyLogicalId(t, 'AWS::Lambda::Function');
    assert.deepEqual(cr.Properties.ServiceToken, { 'Fn::GetAtt': [fn, 'Arn'] });
    // Deleted before the repository (the Ref above orders it) and before the self-invoke policy and the invoke
    // config, which nothing else links it to.
    const selfInvoke = Object.keys(t.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: [Match.objectLike({ Action: 'lambda:InvokeFunction' })] } },
    }));
    assert.equal(selfInvoke.length, 1);
    const invokeConfig = onlyLogicalId(t, 'AWS::Lambda::EventInvokeConfig');
    for (const dep of [selfInvoke[0], invokeConfig]) assert.ok(cr.DependsOn.includes(dep), `DependsOn ${dep}: ${cr.DependsOn}`);
  });

  it('grants the handler only its repository for the ECR calls and only itself for continuation', () => {
    const t = stackWith((stack) => {
      const repository = new ecr.Repository(stack, 'Repo');
      new EmptyOnDelete(stack, 'Empty', { repository, assetDirectory });
    });
    const repo = onlyLogicalId(t, 'AWS::ECR::Repository');
    const fn = onlyLogicalId(t, 'AWS::Lambda::Function');
    const statements = handlerStatements(t);
    const ecrStatements = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ecr:')));
    assert.equal(ecrStatements.length, 1);
    const actions = [ecrStatements[0].Action].flat();
    for (const needed of ['ecr:ListImages', 'ecr:BatchDeleteImage']) assert.ok(actions.includes(needed), needed);
    // Least privilege: the engine no longer calls BatchGetImage, so the role must not grant it.
    assert.ok(!actions.includes('ecr:BatchGetImage'), JSON.stringify(actions));
    assert.deepEqual(ecrStatements[0].Resource, { 'Fn::GetAtt': [repo, 'Arn'] });
    for (const s of statements) {
      assert.notEqual(s.Resource, '*', `no statement on "*": ${JSON.stringify(s)}`);
      assert.ok(![s.Action].flat().some((a: string) => a.endsWith(':*')), `no wildcard action: ${JSON.stringify(s)}`);
    }
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    assert.deepEqual(invoke.Resource, { 'Fn::GetAtt': [fn, 'Arn'] });
    // No managed policies (AWSLambdaBasicExecutionRole would be logs:* everywhere).
    const role = Object.values(t.findResources('AWS::IAM::Role'))[0] as any;
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });

  it('shares one handler per stack and adds every repository to its one statement', () => {
    const t = stackWith((stack) => {
      for (const name of ['a', 'b', 'c']) {
        new EmptyOnDelete(stack, `Empty-${name}`, { repository: new ecr.Repository(stack, `Repo-${name}`), assetDirectory });
      }
    });
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.resourceCountIs('Custom::EmptyEcrRepository', 3);
    const ecrStatement = handlerStatements(t).find((s) => [s.Action].flat().includes('ecr:BatchDeleteImage'));
    assert.equal(ecrStatement.Resource.length, 3);
  });

  it('runs on arm64 by default and on x86_64 when asked, from the matching zip', () => {
    const arm = stackWith((stack) => new EmptyOnDelete(stack, 'E', { repository: new ecr.Repository(stack, 'R'), assetDirectory }));
    arm.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'], Runtime: 'provided.al2023', Handler: 'bootstrap', Timeout: 300,
      Environment: { Variables: { ECRS_MAX_INVOCATIONS: '4', ECRS_LOG_LEVEL: 'info' } },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
    });
    arm.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Failures',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('Function') } }, { Name: 'Mode', Value: 'custom-resource' }],
    });
    const x86 = stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: new ecr.Repository(stack, 'R'), assetDirectory, architecture: lambda.Architecture.X86_64,
    }));
    x86.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
    const onlyX86 = fakeAssetDirectory(['x86_64']);
    assert.throws(() => stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: new ecr.Repository(stack, 'R'), assetDirectory: onlyX86,
    })), /function-arm64\.zip is missing.*npm run bundle/);
  });

  it('empties an imported repository by name, with no dependency on a resource the stack does not own', () => {
    const t = stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: ecr.Repository.fromRepositoryName(stack, 'Imported', 'shared/base-images'), dryRun: true, assetDirectory,
    }));
    const cr = Object.values(t.findResources('Custom::EmptyEcrRepository'))[0] as any;
    assert.equal(cr.Properties.RepositoryName, 'shared/base-images');
    assert.equal(cr.Properties.DryRun, 'true');
    assert.equal(cr.Properties.RegistryId, undefined);
    t.resourceCountIs('AWS::ECR::Repository', 0);
    const ecrStatement = handlerStatements(t).find((s) => [s.Action].flat().includes('ecr:BatchDeleteImage'));
    assert.match(JSON.stringify(ecrStatement.Resource), /repository\/shared\/base-images/);
  });

  it("empties another account's registry, naming it in RegistryId and the role's resource", () => {
    const arn = 'arn:aws:ecr:us-east-1:210987654321:repository/ci/cache';
    const t = stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: ecr.Repository.fromRepositoryArn(stack, 'Other', arn), assetDirectory,
    }));
    const cr = Object.values(t.findResources('Custom::EmptyEcrRepository'))[0] as any;
    assert.equal(cr.Properties.RepositoryName, 'ci/cache');
    assert.equal(cr.Properties.RegistryId, '210987654321');
    const ecrStatement = handlerStatements(t).find((s) => [s.Action].flat().includes('ecr:BatchDeleteImage'));
    assert.equal(ecrStatement.Resource, arn);
    const explicit = stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: ecr.Repository.fromRepositoryName(stack, 'R', 'web'), registryId: '111122223333', assetDirectory,
    }));
    explicit.hasResourceProperties('Custom::EmptyEcrRepository', { RegistryId: '111122223333' });
  });

  it('sizes ServiceTimeout and the continuation chain from timeout, one handler per chain length', () => {
    const t = stackWith((stack) => {
      new EmptyOnDelete(stack, 'Short', { repository: new ecr.Repository(stack, 'A'), timeout: Duration.minutes(10), assetDirectory });
      new EmptyOnDelete(stack, 'Long', { repository: new ecr.Repository(stack, 'B'), timeout: Duration.minutes(60), assetDirectory });
    });
    const timeouts = Object.values(t.findResources('Custom::EmptyEcrRepository')).map((r: any) => r.Properties.ServiceTimeout).sort();
    assert.deepEqual(timeouts, ['3600', '600']);
    const links = Object.values(t.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables.ECRS_MAX_INVOCATIONS).sort();
    assert.deepEqual(links, ['1', '11']);
    const ages = Object.values(t.findResources('AWS::Lambda::EventInvokeConfig')).map((c: any) => c.Properties.MaximumEventAgeInSeconds).sort();
    assert.deepEqual(ages, [3600, 600]);
    assert.throws(() => stackWith((stack) => new EmptyOnDelete(stack, 'E', {
      repository: new ecr.Repository(stack, 'R'), timeout: Duration.minutes(61), assetDirectory,
    })), /between 10 and 60 minutes/);
  });
});
