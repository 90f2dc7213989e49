// The construct and the handler agree on every name: the example app's Custom::EmptyEcrRepository resources, as
// synthesized, go to the real `bootstrap` through localaws (its Runtime API, ECR and the S3 receiver behind the
// ResponseURL) as CloudFormation would send them: Create (which rejects any property the handler does not know),
// then Delete with the physical id Create answered. The function's environment is the synthesized one too.
//   ECRS_BOOTSTRAP=build/default/handler/bootstrap ECRS_LOCALAWS=build/default/localaws/localaws npm run test:e2e
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { after, before, it } from 'node:test';
import { App } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExample } from '../example/app';
import { fakeAssetDirectory } from '../test/fixtures';

// The registry of the example's cross-account repository: localaws serves it, and the owned and imported
// repositories live in it as the "default" registry too.
const ACCOUNT = '210987654321';
const FUNCTION_NAME = 'ecr-sweeper-cdk-e2e';
const SEEDED = { images: 25, indexes: 3 }; // 25 tagged images + 3 indexes over 2 children each = 34
const SEEDED_IMAGES = SEEDED.images + SEEDED.indexes * 3;
const OUTCOME_WAIT_MS = 60_000;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: point it at the built binary (tests/cdk/CMakeLists.txt does)`);
  return v;
}

let localaws: ChildProcess;
let bootstrap: ChildProcess;
let endpoint: string;
const bootstrapLog: string[] = [];

async function http(method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${endpoint}/_localaws/${route}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return JSON.parse(text);
}

let cached: { resources: Record<string, any>; environment: Record<string, string> } | undefined;

function synthesized(): { resources: Record<string, any>; environment: Record<string, string> } {
  if (cached) return cached;
  const app = new App({ context: { assetDirectory: fakeAssetDirectory() } });
  const template = Template.fromStack(buildExample(app).service).toJSON();
  const fns = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::Lambda::Function') as any[];
  assert.equal(fns.length, 1);
  const resources: Record<string, any> = {};
  for (const [id, r] of Object.entries(template.Resources) as Array<[string, any]>) {
    if (r.Type === 'Custom::EmptyEcrRepository') resources[id] = resolve(template, r.Properties, `${id}.Properties`);
  }
  cached = { resources, environment: fns[0].Properties.Environment.Variables };
  return cached;
}

// What CloudFormation substitutes at deploy time, for the intrinsics the construct emits; anything else fails.
function resolve(template: any, value: any, where: string): any {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Ref' in value) {
      const target = template.Resources[value.Ref];
      assert.equal(target?.Type, 'AWS::ECR::Repository', `${where}: Ref to ${value.Ref}`);
      return target.Properties.RepositoryName;
    }
    if ('Fn::GetAtt' in value) {
      assert.deepEqual(value['Fn::GetAtt'][1], 'Arn', `${where}: GetAtt`);
      return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTION_NAME}`;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(template, v, `${where}.${k}`)]));
  }
  throw new Error(`${where}: cannot resolve ${JSON.stringify(value)}`);
}

async function send(requestType: 'Create' | 'Delete', logicalId: string, properties: any, physicalId?: string): Promise<any> {
  const requestId = `${requestType.toLowerCase()}-${logicalId}`;
  const stackId = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/EcrSweeperServiceImages/6f1c2a30`;
  const key = `${encodeURIComponent(stackId)}%7C${logicalId}%7C${requestId}`;
  const { url } = await http('POST', 'response-url', { key });
  const event: any = {
    RequestType: requestType, ServiceToken: properties.ServiceToken, ResponseURL: url, StackId: stackId,
    RequestId: requestId, LogicalResourceId: logicalId, ResourceType: 'Custom::EmptyEcrRepository',
    ResourceProperties: properties,
  };
  if (physicalId) event.PhysicalResourceId = physicalId;
  const { request_id } = await http('POST', 'invoke', event);
  const outcome = await http('GET', `outcome/${request_id}?wait_ms=${OUTCOME_WAIT_MS}`);
  assert.equal(outcome.kind, 'response', `invocation ended with ${JSON.stringify(outcome)}\n${bootstrapLog.join('\n')}`);
  const puts = (await http('GET', 'responses')).filter((r: any) => r.key === key);
  assert.equal(puts.length, 1, `one PUT to the ResponseURL for ${requestId}, got ${JSON.stringify(puts)}`);
  return JSON.parse(puts[0].body);
}

const images = async (repository: string) => (await http('GET', `ecr/summary?repository=${repository}`)) // localaws reads the query raw; names need no escaping;

before(async () => {
  localaws = spawn(required('ECRS_LOCALAWS'), ['--port', '0', '--account-id', ACCOUNT], { stdio: ['pipe', 'pipe', 'inherit'] });
  // localaws prints its endpoints after it has bound: no waiting.
  const first = await new Promise<string>((resolveLine, reject) => {
    readline.createInterface({ input: localaws.stdout! }).once('line', resolveLine);
    localaws.once('exit', (code) => reject(new Error(`localaws exited with ${code}`)));
  });
  const started = JSON.parse(first);
  endpoint = started.endpoint;
  const { environment } = synthesized();
  bootstrap = spawn(required('ECRS_BOOTSTRAP'), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...environment,
      AWS_LAMBDA_RUNTIME_API: started.runtime_api, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/ecrs-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ecrs-credentials',
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    },
  });
  for (const stream of [bootstrap.stdout!, bootstrap.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (l) => bootstrapLog.push(l));
  }
});

after(() => {
  bootstrap?.kill();
  localaws?.stdin?.end(); // localaws stops when its stdin closes
});

it('empties the owned and the cross-account repository and only logs the dry run, as the synthesized resources say', async () => {
  const { resources } = synthesized();
  const byName: Record<string, { id: string; p: any }> = Object.fromEntries(Object.entries(resources).map(([id, p]) => [p.RepositoryName, { id, p }]));
  assert.deepEqual(Object.keys(byName).sort(), ['ci/cache', 'shared/base-images', 'web-images']);
  assert.equal(byName['ci/cache'].p.RegistryId, ACCOUNT);
  assert.equal(byName['shared/base-images'].p.DryRun, 'true');
  for (const repository of Object.keys(byName)) {
    const seeded = await http('POST', 'ecr/seed', { repository, ...SEEDED });
    assert.equal(seeded.images, SEEDED_IMAGES);
  }
  for (const [repository, { id, p }] of Object.entries(byName)) {
    const created = await send('Create', id, p);
    assert.equal(created.Status, 'SUCCESS', `Create ${repository}: ${created.Reason}`);
    const registry = p.RegistryId ?? 'default';
    assert.equal(created.PhysicalResourceId, `ecr-sweeper:${registry}:${repository}`);
    assert.equal((await images(repository)).images, SEEDED_IMAGES, 'Create touches no image');
    const deleted = await send('Delete', id, p, created.PhysicalResourceId);
    assert.equal(deleted.Status, 'SUCCESS', `Delete ${repository}: ${deleted.Reason}`);
    assert.equal(deleted.PhysicalResourceId, created.PhysicalResourceId);
  }
  assert.equal((await images('web-images')).images, 0);
  assert.equal((await images('ci/cache')).images, 0);
  const dry = await images('shared/base-images');
  assert.equal(dry.images, SEEDED_IMAGES, 'the dry run deleted nothing');
  assert.ok(dry.exists);
});

it("answers FAILED on Create for a property name the handler does not read (the check above can fail)", async () => {
  const { resources } = synthesized();
  const [[id, p]] = Object.entries(resources).filter(([, q]) => q.RepositoryName === 'web-images');
  const misspelt = { ...p, DryRun: undefined, Dryrun: 'true' };
  const created = await send('Create', `${id}Misspelt`, JSON.parse(JSON.stringify(misspelt)));
  assert.equal(created.Status, 'FAILED');
  assert.match(created.Reason, /unknown property 'Dryrun'/);
});
