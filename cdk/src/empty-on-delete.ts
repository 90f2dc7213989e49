import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib/core';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { architectureOf, DEFAULT_ASSET_DIRECTORY, HandlerPackageProps, SweeperFunction } from './handler-package';

/** The resource type and the property names the handler reads (cfn/properties.cpp). */
export const EMPTY_ECR_REPOSITORY_RESOURCE_TYPE = 'Custom::EmptyEcrRepository';

// Each link of the continuation chain runs at most this long; ServiceTimeout = links x link + one link of slack for
// the asynchronous queue between links (templates/README.md, "Time budget").
const LINK_SECONDS = 300;
const MAX_LINKS = 11; // 12 x 300 s = CloudFormation's 3600 s ServiceTimeout ceiling
const DEFAULT_TIMEOUT = Duration.minutes(25); // 4 links, the handler's and the templates' default

export interface EmptyOnDeleteProps extends HandlerPackageProps {
  /** The repository to empty when this resource is deleted: owned, imported by name, or another account's by ARN. */
  readonly repository: ecr.IRepository;
  /** Log what would be deleted and delete nothing. @default false */
  readonly dryRun?: boolean;
  /**
   * How long CloudFormation waits for the emptying (ServiceTimeout), 10 to 60 minutes in 5-minute steps
   * (rounded up); the shared handler's continuation chain is sized to fit it. @default Duration.minutes(25)
   */
  readonly timeout?: Duration;
  /**
   * Registry (account id) of the repository. @default the account in the repository's ARN when it is a literal
   * (Repository.fromRepositoryArn), else the stack's own registry
   */
  readonly registryId?: string;
}

interface ChainBudget { readonly links: number; readonly serviceTimeoutSeconds: number }

export function chainBudget(timeout: Duration): ChainBudget {
  const seconds = timeout.toSeconds();
  const links = Math.ceil(seconds / LINK_SECONDS) - 1;
  if (links < 1 || links > MAX_LINKS) {
    throw new Error(`EmptyOnDelete timeout must be between ${2 * LINK_SECONDS / 60} and ${(MAX_LINKS + 1) * LINK_SECONDS / 60}` +
      ` minutes (CloudFormation's ServiceTimeout ceiling), got ${seconds} s`);
  }
  return { links, serviceTimeoutSeconds: (links + 1) * LINK_SECONDS };
}

/**
 * One handler per stack, architecture and chain length, like CDK's own custom-resource providers: every
 * EmptyOnDelete in the stack adds its repository to the one role.
 */
export class EmptyOnDeleteProvider extends Construct {
  public static of(scope: Construct, props: HandlerPackageProps, budget: ChainBudget): EmptyOnDeleteProvider {
    const stack = Stack.of(scope);
    const arch = architectureOf(props);
    const id = `EcrSweeperEmptyOnDelete-${arch.name}-${budget.links}`;
    const existing = stack.node.tryFindChild(id) as EmptyOnDeleteProvider | undefined;
    if (existing) {
      const dir = props.assetDirectory ?? DEFAULT_ASSET_DIRECTORY;
      if (dir !== existing.assetDirectory) {
        throw new Error(`EmptyOnDelete: the stack's shared ${arch.name} handler uses ${existing.assetDirectory}, not ${dir}`);
      }
      return existing;
    }
    return new EmptyOnDeleteProvider(stack, id, props, budget);
  }

  public readonly handler: SweeperFunction;
  /** Kept apart from the role's default policy: it names the function, which depends on that policy. */
  public readonly selfInvokePolicy: iam.Policy;
  public readonly invokeConfig: lambda.EventInvokeConfig;
  public readonly serviceTimeout: Duration;
  private readonly assetDirectory: string;
  private emptyStatement?: iam.PolicyStatement;

  private constructor(scope: Construct, id: string, props: HandlerPackageProps, budget: ChainBudget) {
    super(scope, id);
    this.assetDirectory = props.assetDirectory ?? DEFAULT_ASSET_DIRECTORY;
    this.serviceTimeout = Duration.seconds(budget.serviceTimeoutSeconds);
    this.handler = new SweeperFunction(this, 'Handler', {
      ...props,
      description: 'ecr-sweeper Custom::EmptyEcrRepository handler (shared by the stack)',
      roleDescription: 'ecr-sweeper handler, least privilege for the repositories this stack empties',
      // Each link of the continuation chain; the handler hands over before its deadline.
      timeout: Duration.seconds(LINK_SECONDS),
      memorySize: 256,
      mode: 'custom-resource',
      logRetention: logs.RetentionDays.TWO_WEEKS,
      environment: { ECRS_MAX_INVOCATIONS: String(budget.links) },
    });
    this.selfInvokePolicy = new iam.Policy(this, 'SelfInvoke', {
      roles: [this.handler.role],
      statements: [new iam.PolicyStatement({
        sid: 'ReinvokeSelf',
        actions: ['lambda:InvokeFunction'],
        resources: [this.handler.function.functionArn],
      })],
    });
    // Drop events CloudFormation stopped waiting for; retry a crashed link twice (Lambda's default).
    this.invokeConfig = new lambda.EventInvokeConfig(this, 'InvokeConfig', {
      function: this.handler.function,
      qualifier: '$LATEST',
      retryAttempts: 2,
      maxEventAge: this.serviceTimeout,
    });
  }

  public get serviceToken(): string { return this.handler.function.functionArn; }

  /**
   * ListImages and BatchDeleteImage empty it. DescribeImages is optional (indexes go first, fewer pages for tagged
   * repositories; denied, the handler warns once and lists with ListImages); DescribeRepositories is Create/Update's
   * existence check. No BatchGetImage: the engine no longer calls it.
   */
  public grantEmpty(repositoryArn: string): void {
    if (!this.emptyStatement) {
      this.emptyStatement = new iam.PolicyStatement({
        sid: 'EmptyTheRepositories',
        actions: ['ecr:ListImages', 'ecr:BatchDeleteImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories'],
        resources: [repositoryArn],
      });
      this.handler.role.addToPrincipalPolicy(this.emptyStatement);
    } else {
      this.emptyStatement.addResources(repositoryArn);
    }
  }
}

/**
 * Empties an ECR repository when this resource is deleted (Custom::EmptyEcrRepository), before CloudFormation
 * deletes the repository itself. The drop-in for `autoDeleteImages: true`.
 */
export class EmptyOnDelete extends Construct {
  public readonly resource: CustomResource;
  public readonly provider: EmptyOnDeleteProvider;

  constructor(scope: Construct, id: string, props: EmptyOnDeleteProps) {
    super(scope, id);
    const budget = chainBudget(props.timeout ?? DEFAULT_TIMEOUT);
    this.provider = EmptyOnDeleteProvider.of(this, props, budget);
    this.provider.grantEmpty(props.repository.repositoryArn);

    const properties: Record<string, string> = {
      RepositoryName: props.repository.repositoryName,
      DryRun: props.dryRun ? 'true' : 'false',
    };
    const registryId = props.registryId ?? registryOfArn(props.repository.repositoryArn);
    if (registryId !== undefined) properties.RegistryId = registryId;

    this.resource = new CustomResource(this, 'Resource', {
      resourceType: EMPTY_ECR_REPOSITORY_RESOURCE_TYPE,
      serviceToken: this.provider.serviceToken,
      serviceTimeout: this.provider.serviceTimeout,
      properties,
    });
    // The permissions must outlive the emptying: deleted only after this resource.
    this.resource.node.addDependency(this.provider.selfInvokePolicy, this.provider.invokeConfig);
    // Deletion runs in reverse dependency order: RepositoryName's Ref to an owned repository makes this resource
    // (the emptying) go before the repository. An explicit DependsOn would repeat it (cfn-lint W3005).
  }
}

function registryOfArn(arn: string): string | undefined {
  if (Token.isUnresolved(arn)) return undefined;
  const account = arn.split(':')[4];
  return account && /^[0-9]{12}$/.test(account) ? account : undefined;
}
