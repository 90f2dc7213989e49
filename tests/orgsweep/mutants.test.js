'use strict';
// A wrong expression must fail org_sweep.test.js: each mutant is one expression of templates/org-sweep.yaml changed
// in a temporary copy, and the suite must fail on it (the one slow case is left out to keep this quick).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { it } = require('node:test');

const TEMPLATE = path.join(__dirname, '..', '..', 'templates', 'org-sweep.yaml');
const MUTANTS = [
  ['the deleted total sums planned images', '"deleted": $totals.deleted + $states.result.Payload.imagesDeleted',
    '"deleted": $totals.deleted + $states.result.Payload.imagesPlanned'],
  ['a suspended account is swept', "Accounts[Status = 'ACTIVE']", "Accounts[Status != 'PENDING_CLOSURE']"],
  ['one resume fewer than MaxResumes', '$resumes <= ${MaxResumes}', '$resumes < ${MaxResumes}'],
  ['a resumed invocation reads the item from its input (the bug this issue fixed)', 'accountId: "{% $item.accountId %}"',
    'accountId: "{% $states.input.item.accountId %}"'],
  ['the summary counts complete rows as incomplete', '$count($rows[complete = false])', '$count($rows[complete = true])'],
];

// NODE_TEST_CONTEXT tells a node started by the test runner to report to it instead of running its own suite.
function childEnv(template) {
  const env = { ...process.env, ORG_SWEEP_TEMPLATE: template };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

it('passes on the template itself (the mutants below fail for their change alone)', () => {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=dot', '--test-name-pattern=^org-sweep state machine$',
    path.join(__dirname, 'org_sweep.test.js')], { env: childEnv(TEMPLATE), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

for (const [what, from, to] of MUTANTS) {
  it(`fails when ${what}`, () => {
    const text = fs.readFileSync(TEMPLATE, 'utf8');
    assert.equal(text.split(from).length, 2, `the template holds "${from}" exactly once`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'org-sweep-mutant-'));
    const mutant = path.join(dir, 'org-sweep.yaml');
    fs.writeFileSync(mutant, text.replace(from, to));
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=dot', '--test-name-pattern=^org-sweep state machine$',
      path.join(__dirname, 'org_sweep.test.js')], { env: childEnv(mutant), encoding: 'utf8' });
    assert.notEqual(r.status, 0, `the suite passed on the mutant:\n${r.stdout}`);
    
  });
}
