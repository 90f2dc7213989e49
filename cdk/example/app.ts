// The example app `cdk synth` runs in the tests (cdk.json): every construct, as a user would write it.
//   npx cdk synth -c assetDirectory=DIR     (DIR holds function-x86_64.zip and function-arm64.zip)
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CreateOnPush, DeletionHook, EmptyOnDelete, ScheduledCleanup } from '../src';

export interface ExampleOptions { readonly assetDirectory?: string }

/** A service's images: the repository it owns, a shared one it imports, and a cache in the CI account. */
export class ServiceImagesStack extends Stack {
  public readonly repository: ecr.Repository;
  constructor(scope: Construct, id: string, options: ExampleOptions) {
    super(scope, id);
    // Was: new ecr.Repository(this, 'Images', { removalPolicy: DESTROY, autoDeleteImages: true })
    this.repository = new ecr.Repository(this, 'Images', {
      repositoryName: 'web-images',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new EmptyOnDelete(this, 'EmptyImages', { repository: this.repository, assetDirectory: options.assetDirectory });
    new EmptyOnDelete(this, 'EmptyImportedBase', {
      repository: ecr.Repository.fromRepositoryName(this, 'Base', 'shared/base-images'),
      dryRun: true,
      assetDirectory: options.assetDirectory,
    });
    new EmptyOnDelete(this, 'EmptyCiCache', {
      repository: ecr.Repository.fromRepositoryArn(this, 'CiCache',
        'arn:aws:ecr:us-east-1:210987654321:repository/ci/cache'),
      assetDirectory: options.assetDirectory,
    });
  }
}

/** The account-wide modes, once per account and Region. */
export class AccountToolsStack extends Stack {
  constructor(scope: Construct, id: string, options: ExampleOptions) {
    super(scope, id);
    new ScheduledCleanup(this, 'Cleanup', {
      keepCount: 50,
      repositories: ['team-*'],
      schedule: events.Schedule.cron({ minute: '0', hour: '3' }),
      architecture: lambda.Architecture.X86_64,
      assetDirectory: options.assetDirectory,
    });
    new DeletionHook(this, 'Hook', { excludeStackNames: ['prod-*'], assetDirectory: options.assetDirectory });
    new CreateOnPush(this, 'CreateOnPush', {
      allowPatterns: ['team-*/**'],
      repositoryTags: { team: 'platform' },
      lifecyclePolicy: { rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed',
        countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } }] },
      assetDirectory: options.assetDirectory,
    });
  }
}

export function buildExample(app: App): { service: ServiceImagesStack; tools: AccountToolsStack } {
  const assetDirectory: string | undefined = app.node.tryGetContext('assetDirectory');
  return {
    service: new ServiceImagesStack(app, 'EcrSweeperServiceImages', { assetDirectory }),
    tools: new AccountToolsStack(app, 'EcrSweeperAccountTools', { assetDirectory }),
  };
}

if (require.main === module) {
  const app = new App();
  buildExample(app);
  app.synth();
}
