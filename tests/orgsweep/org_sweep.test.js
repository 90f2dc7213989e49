'use strict';
// templates/org-sweep.yaml's state machine, executed by asl_runner.js (a test tool) with the reference jsonata:
// the account list given or paged from Organizations, the account x region items, the per-item resume loop, the
// Map's tolerated failures and ResultWriter files, and the final summary. The function is a fake here that answers
// with the report shape handler/sweep writes; org_sweep_bootstrap.test.js runs the real bootstrap.
//   ORG_SWEEP_TEMPLATE=path/to/org-sweep.yaml node --test   (default: the repository's template)
const assert = require('node:assert/strict');
const path = require('node:path');
const { describe, it } = require('node:test');
const { Execution, StatesError, definitionOf, lambdaInvoke, loadTemplate, newWorld } = require('./asl_runner');

const TEMPLATE = process.env.ORG_SWEEP_TEMPLATE || path.join(__dirname, '..', '..', 'templates', 'org-sweep.yaml');
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper-org';
const BUCKET = 'org-sweep-results-test';
const template = loadTemplate(TEMPLATE);

function substitutions(overrides = {}) {
  return {
    SweeperFunctionArn: FUNCTION_ARN, ResultsBucket: BUCKET, MemberRoleName: 'ecr-sweeper-member', Partition: 'aws',
    MaxConcurrency: '10', ToleratedFailurePercentage: '10', MaxResumes: '5', DryRun: 'true', KeepCount: '100',
    KeepDays: '30', KeepTags: 'latest,release-*', Regions: 'us-east-1,eu-west-1', AccountIds: '', ...overrides,
  };
}

/** The report handler/sweep answers (every counter always present), from a few numbers. */
function report(task, { planned = 0, deleted = 0, bytes = 0, inUseKept = 0, errorsTotal = 0, complete = true, cursor, error } = {}) {
  const r = {
    task: 'clean', accountId: task.accountId, region: task.region, dryRun: task.options.dryRun, complete,
    repositoriesSeen: 3, repositoriesProcessed: 3, imagesPlanned: planned, imagesDeleted: deleted, imagesSpared: 0,
    bytes, inUseKept, inUseReferences: 0, errors: [], errorsTotal, repositories: [], repositoriesOmitted: 0,
  };
  if (cursor) r.cursor = cursor;
  if (error) r.error = error;
  return r;
}

/** numbers(accountId, region, cursor) -> report fields, or throws to fail the invocation. */
function world({ numbers = () => ({ planned: 2, deleted: 0, bytes: 100, inUseKept: 1 }), organizations } = {}) {
  const invocations = [];
  const w = newWorld(() => ({
    'arn:aws:states:::lambda:invoke': lambdaInvoke(async (payload, functionName) => {
      assert.equal(functionName, FUNCTION_ARN);
      const task = payload.ecrSweeper;
      invocations.push(task);
      return report(task, numbers(task.accountId, task.region, task.options.cursor));
    }),
    'arn:aws:states:::aws-sdk:organizations:listAccounts': async (args) => {
      if (!organizations) throw new Error('ListAccounts was called although AccountIds was given');
      return organizations(args);
    },
  }));
  w.invocations = invocations;
  return w;
}

async function execute(w, overrides, name = 'run-1') {
  const definition = definitionOf(template, 'SweepStateMachine', substitutions(overrides));
  return new Execution(definition, w, { name }).run({});
}

function rows(w, status = 'SUCCEEDED') {
  const key = [...w.s3.keys()].find((k) => k.endsWith(`/${status}_0.json`));
  return key ? JSON.parse(w.s3.get(key)).map((e) => (e.Output ? JSON.parse(e.Output) : e)) : [];
}

const ACCOUNTS = ['111111111111', '222222222222'];

describe('org-sweep state machine', () => {
  it('sweeps a given account list in every region with the options the stack set, never listing the organisation', async () => {
    const w = world();
    const out = await execute(w, { AccountIds: ACCOUNTS.join(','), DryRun: 'false', KeepCount: '7', KeepDays: '0', KeepTags: 'v*' });
    assert.equal(w.invocations.length, 4);
    const items = w.invocations.map((t) => `${t.accountId}/${t.region}`).sort();
    assert.deepEqual(items, ['111111111111/eu-west-1', '111111111111/us-east-1', '222222222222/eu-west-1', '222222222222/us-east-1']);
    for (const t of w.invocations) {
      assert.deepEqual(t, {
        task: 'clean', accountId: t.accountId, region: t.region, runId: 'run-1',
        roleArn: `arn:aws:iam::${t.accountId}:role/ecr-sweeper-member`,
        options: { dryRun: false, keepCount: 7, keepDays: 0, keepTags: ['v*'], cursor: '' },
      });
    }
    assert.equal(w.mapRuns[0].maxConcurrency, 10, 'MaxConcurrency a number from its substitution');
    assert.equal(w.mapRuns[0].tolerated, 10);
    assert.equal(out.items, 4);
    assert.equal(out.resultsBucket, BUCKET);
  });

  it('lists the organisation over two pages, sweeping only ACTIVE accounts, NextToken only after the first page', async () => {
    const pages = {
      '': { Accounts: [{ Id: '111111111111', Status: 'ACTIVE' }, { Id: '333333333333', Status: 'SUSPENDED' }], NextToken: 'page-2' },
      'page-2': { Accounts: [{ Id: '222222222222', Status: 'ACTIVE' }, { Id: '444444444444', Status: 'PENDING_CLOSURE' }] },
    };
    const calls = [];
    const w = world({ organizations: async (args) => { calls.push(args); return pages[args.NextToken ?? '']; } });
    const out = await execute(w, { Regions: 'us-east-1' });
    assert.deepEqual(calls, [{}, { NextToken: 'page-2' }]);
    assert.deepEqual(w.invocations.map((t) => t.accountId).sort(), ACCOUNTS);
    assert.equal(out.items, 2);
  });

  it('retries a throttled ListAccounts page with backoff', async () => {
    let throttles = 1;
    const w = world({
      organizations: async () => {
        if (throttles-- > 0) throw new StatesError('Organizations.TooManyRequestsException', 'Rate exceeded');
        return { Accounts: [{ Id: '111111111111', Status: 'ACTIVE' }] };
      },
    });
    await execute(w, { Regions: 'us-east-1' });
    assert.deepEqual(w.trace.filter((t) => t.retry).map((t) => [t.state, t.waitSeconds]), [['ListAccounts', 2]]);
    assert.equal(w.invocations.length, 1);
  });

  it('resumes an item from its cursor until complete, summing its totals over the invocations', async () => {
    const w = world({
      numbers: (account, region, cursor) => {
        if (account !== '111111111111' || region !== 'us-east-1') return { planned: 1, deleted: 1, bytes: 10 };
        if (cursor === '') return { planned: 5, deleted: 5, bytes: 500, inUseKept: 2, complete: false, cursor: 'team-m' };
        if (cursor === 'team-m') return { planned: 3, deleted: 3, bytes: 300, errorsTotal: 1, complete: false, cursor: 'team-t' };
        assert.equal(cursor, 'team-t');
        return { planned: 1, deleted: 1, bytes: 100 };
      },
    });
    const out = await execute(w, { AccountIds: ACCOUNTS.join(','), DryRun: 'false' });
    const resumed = w.invocations.filter((t) => t.accountId === '111111111111' && t.region === 'us-east-1');
    assert.deepEqual(resumed.map((t) => t.options.cursor), ['', 'team-m', 'team-t']);
    const row = rows(w).find((r) => r.accountId === '111111111111' && r.region === 'us-east-1');
    assert.deepEqual(row, {
      accountId: '111111111111', region: 'us-east-1', complete: true, invocations: 3,
      totals: { planned: 9, deleted: 9, bytes: 900, inUseKept: 2, errors: 1 },
    });
    assert.equal(out.incomplete, 0);
    assert.equal(out.imagesDeleted, 9 + 3);
  });

  it('stops resuming after MaxResumes and reports the item incomplete with its error', async () => {
    const w = world({
      numbers: (account, region, cursor) => (account === '222222222222' && region === 'eu-west-1'
        ? { planned: 1, complete: false, cursor: `${cursor}x`, error: { code: 'Deadline', message: 'out of time' } }
        : { planned: 1 }),
    });
    const out = await execute(w, { AccountIds: ACCOUNTS.join(','), MaxResumes: '2' });
    const stuck = w.invocations.filter((t) => t.accountId === '222222222222' && t.region === 'eu-west-1');
    assert.equal(stuck.length, 3, 'the first invocation and MaxResumes=2 resumes');
    const row = rows(w).find((r) => r.accountId === '222222222222' && r.region === 'eu-west-1');
    assert.equal(row.complete, false);
    assert.equal(row.error, 'Deadline');
    assert.equal(row.invocations, 3);
    assert.equal(out.incomplete, 1);
  });

  it('tolerates one failed item in ten, writes it to FAILED_0.json and sums the nine', async () => {
    const accounts = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
    const w = world({
      numbers: (account) => {
        if (account === accounts[3]) throw Object.assign(new Error('Runtime exited'), { errorType: 'Runtime.ExitError' });
        return { planned: 4, deleted: 3, bytes: 1000, inUseKept: 1, errorsTotal: 0 };
      },
    });
    const out = await execute(w, { AccountIds: accounts.join(','), Regions: 'us-east-1' });
    const failed = rows(w, 'FAILED');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].Error, 'Runtime.ExitError');
    assert.equal(JSON.parse(failed[0].Input).item.accountId, accounts[3]);
    assert.deepEqual(out, {
      items: 9, incomplete: 0, failedResultFiles: 1, imagesPlanned: 36, imagesDeleted: 27, bytes: 9000, inUseKept: 9,
      errors: 0, mapRunArn: out.mapRunArn, resultsBucket: BUCKET,
    });
    assert.match(out.mapRunArn, /^arn:aws:states:.*:mapRun:/);
  });

  it('fails the run when more items fail than tolerated', async () => {
    const accounts = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
    const w = world({
      numbers: (account) => {
        if (account === accounts[1] || account === accounts[2]) throw Object.assign(new Error('boom'), { errorType: 'Runtime.ExitError' });
        return { planned: 1 };
      },
    });
    await assert.rejects(execute(w, { AccountIds: accounts.join(','), Regions: 'us-east-1' }),
      (e) => e.error === 'States.ExceedToleratedFailureThreshold');
    assert.equal(rows(w, 'FAILED').length, 2, 'the results are written before the Map fails');
  });

  it('retries Lambda throttling on an item instead of failing it', async () => {
    let throttles = 2;
    const w = world();
    const invoke = w.services['arn:aws:states:::lambda:invoke'];
    w.services['arn:aws:states:::lambda:invoke'] = async (args, ctx) => {
      if (throttles-- > 0) throw new StatesError('Lambda.TooManyRequestsException', 'Rate exceeded');
      return invoke(args, ctx);
    };
    const out = await execute(w, { AccountIds: ACCOUNTS[0], Regions: 'us-east-1' });
    assert.deepEqual(w.trace.filter((t) => t.retry).map((t) => t.waitSeconds), [2, 4]);
    assert.equal(out.items, 1);
  });

  it('sums the final summary over every row: planned, deleted, bytes, in-use kept, errors, incomplete', async () => {
    const table = {
      '111111111111/us-east-1': { planned: 10, deleted: 9, bytes: 1_000_000, inUseKept: 3, errorsTotal: 1 },
      '111111111111/eu-west-1': { planned: 0, deleted: 0, bytes: 0, inUseKept: 0 },
      '222222222222/us-east-1': { planned: 7, deleted: 7, bytes: 70, inUseKept: 0, complete: false, error: { code: 'AccessDenied', message: 'no role' } },
      '222222222222/eu-west-1': { planned: 5, deleted: 4, bytes: 5, inUseKept: 2, errorsTotal: 2 },
    };
    const w = world({ numbers: (a, r) => table[`${a}/${r}`] });
    const out = await execute(w, { AccountIds: ACCOUNTS.join(','), DryRun: 'false' });
    const sum = (f) => Object.values(table).reduce((n, t) => n + (t[f] ?? 0), 0);
    assert.deepEqual(out, {
      items: 4, incomplete: 1, failedResultFiles: 0, imagesPlanned: sum('planned'), imagesDeleted: sum('deleted'),
      bytes: sum('bytes'), inUseKept: sum('inUseKept'), errors: sum('errorsTotal'), mapRunArn: out.mapRunArn, resultsBucket: BUCKET,
    });
    assert.equal(rows(w).find((r) => r.accountId === '222222222222' && r.region === 'us-east-1').error, 'AccessDenied');
  });

  it('ends with the manifest when no item succeeded (nothing to read, nothing to sum)', async () => {
    const w = world({ numbers: () => { throw Object.assign(new Error('boom'), { errorType: 'Runtime.ExitError' }); } });
    const out = await execute(w, { AccountIds: ACCOUNTS[0], Regions: 'us-east-1', ToleratedFailurePercentage: '100' });
    assert.equal(out.summary, 'no succeeded results to sum; the manifest names the files');
    assert.equal(out.error, 'States.QueryEvaluationError');
    assert.equal(out.manifest.ResultFiles.FAILED.length, 1);
  });
});

// Apart, so mutants.test.js can leave this slower case out (--test-name-pattern selects the suite above).
describe('org-sweep results too large for a state', () => {
  it('ends pointing at S3 when the results are too large for one state', async () => {
    const accounts = Array.from({ length: 450 }, (_, i) => String(100000000000 + i));
    const w = world({ numbers: () => ({ planned: 1 }) });
    const out = await execute(w, { AccountIds: accounts.join(','), Regions: 'us-east-1', MaxConcurrency: '0' });
    const succeeded = [...w.s3.entries()].find(([k]) => k.endsWith('/SUCCEEDED_0.json'))[1];
    assert.ok(Buffer.byteLength(succeeded) > 256 * 1024, `the premise: ${Buffer.byteLength(succeeded)} bytes of results`);
    assert.equal(out.summary, 'results too large to sum in the state machine; read them in S3');
    assert.equal(out.manifest.ResultFiles.SUCCEEDED.length, 1);
    assert.deepEqual(w.trace.filter((t) => t.caught).map((t) => [t.state, t.caught]), [['ReadSucceeded', 'States.DataLimitExceeded']]);
  });
});
