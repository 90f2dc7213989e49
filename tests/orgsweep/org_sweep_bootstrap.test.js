'use strict';
// templates/org-sweep.yaml's state machine with every Lambda invocation answered by the real `bootstrap` through
// localaws (POST /_localaws/invoke, GET /_localaws/outcome), as tests/sweep/fake_distributed_map.py sets it up: one
// localaws is the function's account (STS, the Runtime API, the in-use services), a second is a member account's
// registry reached through AWS_ENDPOINT_URL_ECR with the first key the main localaws's STS issues. The function's
// 4 s timeout leaves 3 s past the sweep's reserve (cleanup::stop_time: a quarter of the time left, at most 2 s)
// and every member ECR call takes 400 ms: enough for the first repository, not for both, so the member item runs
// out of time after some progress and the state machine resumes it from the real cursor.
//   ECRS_BOOTSTRAP=build/default/handler/bootstrap ECRS_LOCALAWS=build/default/localaws/localaws node --test org_sweep_bootstrap.test.js
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { after, before, it } = require('node:test');
const { Execution, definitionOf, lambdaInvoke, loadTemplate, newWorld } = require('./asl_runner');

const MAIN = '123456789012';
const MEMBER = '210987654321';
const MEMBER_KEY = ['ASIALOCALAWS100001', 'localaws-secret-1', 'localaws-session-token-1'];
const REPOS = { 'team-api': 7, 'team-web': 5 };
const SWEEP_DEADLINE_MARGIN_MS = 1_000; // cleanup::stop_time's reserve for a 4 s timeout: min(2 s, 4 s / 4)
const WINDOW_MS = 3_000;
const MEMBER_LATENCY_MS = 400;
const OUTCOME_WAIT_MS = 60_000;

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: point it at the built binary (tests/orgsweep/CMakeLists.txt does)`);
  return v;
}

const processes = [];

async function startLocalaws(...args) {
  const p = spawn(required('ECRS_LOCALAWS'), ['--port', '0', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  processes.push(p);
  // The first line, printed after bind: no waiting.
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: p.stdout }).once('line', resolve);
    p.once('exit', (code) => reject(new Error(`localaws exited with ${code}`)));
  });
  return JSON.parse(line);
}

async function http(method, url, body) {
  const res = await fetch(url, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

let main;
let member;

before(async () => {
  main = await startLocalaws('--account-id', MAIN, '--function-timeout-ms', String(SWEEP_DEADLINE_MARGIN_MS + WINDOW_MS));
  member = await startLocalaws('--account-id', MEMBER, '--credentials', MEMBER_KEY.join(':'), '--latency-ms', String(MEMBER_LATENCY_MS));
  // Tagged ecr-sweeper:enabled=true, which is what the sweep selects without a repositories option.
  for (const [repository, images] of Object.entries(REPOS)) {
    const created = spawnSync('aws', ['--endpoint-url', member.endpoint, 'ecr', 'create-repository', '--repository-name', repository,
      '--tags', 'Key=ecr-sweeper:enabled,Value=true'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ACCESS_KEY_ID: MEMBER_KEY[0], AWS_SECRET_ACCESS_KEY: MEMBER_KEY[1], AWS_SESSION_TOKEN: MEMBER_KEY[2],
        AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    });
    assert.equal(created.status, 0, `aws ecr create-repository ${repository}: ${created.error ?? ''}${created.stderr}`);
    assert.equal((await http('POST', `${member.endpoint}/_localaws/ecr/seed`, { repository, images })).images, images);
  }
  const fn = spawn(required('ECRS_BOOTSTRAP'), [], {
    stdio: 'ignore',
    env: {
      AWS_LAMBDA_RUNTIME_API: main.runtime_api, AWS_ENDPOINT_URL: main.endpoint, AWS_ENDPOINT_URL_ECR: member.endpoint,
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  processes.push(fn);
});

after(() => {
  for (const p of processes.reverse()) {
    if (p.stdin) p.stdin.end(); // localaws stops when its stdin closes
    else p.kill();
  }
});

it('sweeps a member account through the real bootstrap, resuming it from the real cursor, and refuses the own account', async () => {
  const invocations = [];
  const world = newWorld(() => ({
    'arn:aws:states:::lambda:invoke': lambdaInvoke(async (payload) => {
      invocations.push(payload.ecrSweeper);
      const { request_id: id } = await http('POST', `${main.endpoint}/_localaws/invoke`, payload);
      const outcome = await http('GET', `${main.endpoint}/_localaws/outcome/${id}?wait_ms=${OUTCOME_WAIT_MS}`);
      if (outcome.kind !== 'response') {
        throw Object.assign(new Error(outcome.body), { errorType: outcome.error_type || 'Lambda.Unknown' });
      }
      return JSON.parse(outcome.body);
    }),
  }));
  const template = loadTemplate(path.join(__dirname, '..', '..', 'templates', 'org-sweep.yaml'));
  const definition = definitionOf(template, 'SweepStateMachine', {
    SweeperFunctionArn: `arn:aws:lambda:us-east-1:${MAIN}:function:ecr-sweeper`, ResultsBucket: 'results', MemberRoleName: 'ecr-sweeper-member',
    Partition: 'aws', MaxConcurrency: '1', ToleratedFailurePercentage: '0', MaxResumes: '5', DryRun: 'false', KeepCount: '0',
    KeepDays: '0', KeepTags: 'keep-*', Regions: 'us-east-1', AccountIds: `${MEMBER},${MAIN}`,
  });
  const summary = await new Execution(definition, world, { name: 'bootstrap-run' }).run({});

  const seeded = Object.values(REPOS).reduce((a, b) => a + b, 0);
  const memberCalls = invocations.filter((t) => t.accountId === MEMBER);
  assert.ok(memberCalls.length >= 2, `the member item resumed: ${JSON.stringify(memberCalls.map((t) => t.options.cursor))}`);
  assert.equal(memberCalls[0].options.cursor, '');
  assert.notEqual(memberCalls[1].options.cursor, '', 'the second invocation starts from the cursor the first replied');
  assert.equal(summary.items, 2);
  assert.equal(summary.imagesDeleted, seeded);
  // A repository resumed inside is planned again from what is left of it, so what the first invocation planned
  // but had no time to delete counts twice in the sum of the items' reports: at least every seeded image.
  assert.ok(summary.imagesPlanned >= seeded, `imagesPlanned ${summary.imagesPlanned} < ${seeded}`);
  assert.equal(summary.incomplete, 1, 'the own account is refused, not swept');
  const rows = JSON.parse([...world.s3.entries()].find(([k]) => k.endsWith('/SUCCEEDED_0.json'))[1]).map((e) => JSON.parse(e.Output));
  const own = rows.find((r) => r.accountId === MAIN);
  assert.equal(own.error, 'OwnAccountRefused');
  assert.equal(own.invocations, 1);
  const memberRow = rows.find((r) => r.accountId === MEMBER);
  assert.equal(memberRow.complete, true);
  assert.equal(memberRow.invocations, memberCalls.length);
  for (const repository of Object.keys(REPOS)) {
    const left = await http('GET', `${member.endpoint}/_localaws/ecr/summary?repository=${repository}`);
    assert.equal(left.images, 0, `${repository}: ${left.images} images left`);
  }
});
