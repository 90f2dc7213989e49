'use strict';
// The runner's own semantics, on small definitions, so a wrong runner cannot make org-sweep pass.
const assert = require('node:assert/strict');
const { it } = require('node:test');
const { Execution, StatesError, newWorld } = require('./asl_runner');

function run(states, input = {}, services = () => ({})) {
  const world = newWorld(services);
  return { world, result: new Execution({ QueryLanguage: 'JSONata', StartAt: Object.keys(states)[0], States: states }, world).run(input) };
}

it('evaluates Assign and Output from the variables on entry: a state sees its own assignment only afterwards', async () => {
  const { result } = run({
    A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
    B: { Type: 'Pass', Assign: { x: '{% $x + 1 %}' }, Output: { seen: '{% $x %}' }, Next: 'C' },
    C: { Type: 'Pass', Output: { before: '{% $states.input.seen %}', now: '{% $x %}' }, End: true },
  });
  assert.deepEqual(await result, { before: 1, now: 2 });
});

it('fails a field whose expression returns nothing with States.QueryEvaluationError', async () => {
  const { result } = run({ A: { Type: 'Pass', Output: { v: '{% $states.input.missing %}' }, End: true } });
  await assert.rejects(result, (e) => e instanceof StatesError && e.error === 'States.QueryEvaluationError' && /returned nothing/.test(e.cause));
});

it('rejects a field it does not implement instead of ignoring it', async () => {
  const { result } = run({ A: { Type: 'Pass', Parameters: {}, End: true } });
  await assert.rejects(result, /does not implement the field Parameters/);
});

it('lets States.ALL catch a task error but not States.DataLimitExceeded, which must be named', async () => {
  const big = 'x'.repeat(300 * 1024);
  const services = () => ({ 'arn:test:big': async () => big, 'arn:test:fail': async () => { throw new StatesError('Boom', 'c'); } });
  const caught = run({
    A: { Type: 'Task', Resource: 'arn:test:fail', Catch: [{ ErrorEquals: ['States.ALL'], Output: '{% $states.errorOutput %}', Next: 'B' }] },
    B: { Type: 'Succeed' },
  }, {}, services);
  assert.deepEqual(await caught.result, { Error: 'Boom', Cause: 'c' });
  const notCaught = run({
    A: { Type: 'Task', Resource: 'arn:test:big', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'B' }], End: true },
    B: { Type: 'Succeed' },
  }, {}, services);
  await assert.rejects(notCaught.result, (e) => e.error === 'States.DataLimitExceeded');
});

it('starts Distributed Map children without the parent variables, from ItemSelector', async () => {
  const processor = {
    ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'Look',
    States: { Look: { Type: 'Pass', Output: '{% $parentOnly %}', End: true } },
  };
  const { result } = run({
    Set: { Type: 'Pass', Assign: { parentOnly: 'p' }, Next: 'M' },
    M: { Type: 'Map', Items: '{% [1, 2] %}', ItemSelector: { v: '{% $states.context.Map.Item.Value * 10 %}' }, ItemProcessor: processor, End: true },
  });
  await assert.rejects(result, (e) => e.error === 'States.ExceedToleratedFailureThreshold');
  const ok = run({
    M: { Type: 'Map', Items: '{% [1, 2] %}', ItemSelector: { v: '{% $states.context.Map.Item.Value * 10 %}' },
      ItemProcessor: { ...processor, States: { Look: { Type: 'Pass', Output: '{% $states.input.v %}', End: true } } }, End: true },
  });
  assert.deepEqual(await ok.result, [10, 20]);
});
