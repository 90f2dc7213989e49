'use strict';
// TEST TOOL ONLY, not a product path: executes a JSONata state machine definition (Amazon States Language) the way
// Step Functions does, for what templates/org-sweep.yaml uses, with the reference `jsonata` package (2.0.6, the
// version Step Functions implements) evaluating every "{% %}" expression. AWS calls go to the services object
// the test passes in (fakes, or the real bootstrap through localaws).
//
// What it implements, from the Step Functions developer guide ("Transforming data with JSONata", "Passing data
// between states with variables", Map state, ResultWriter, "Handling errors"):
// - $states.input (the state's input), $states.result (a Task's or Map's result), $states.errorOutput (in a Catch),
//   $states.context (Execution, State, StateMachine; Map.Item.Index/Value in ItemSelector).
// - A string field that is exactly "{% expr %}" is evaluated, in objects and arrays at any depth; one that
//   evaluates to nothing (undefined) fails the state with States.QueryEvaluationError, as does a JSONata error.
// - Assign and Output are evaluated together from the same $states and the variables as they were on entering
//   the state: a state's own assignments are visible only from the next state on. Output defaults to the result
//   (Task, Map) or the input (Pass, Choice).
// - Choice: the first rule whose Condition is true; its Assign; Default otherwise (States.NoChoiceMatched).
// - Distributed Map: Items (a JSON array), ItemSelector per item, MaxConcurrency, ToleratedFailurePercentage,
//   ResultWriter to S3 (manifest.json, SUCCEEDED_0.json, FAILED_0.json; each entry's Output a JSON string) and
//   the result {MapRunArn, ResultWriterDetails}. Child executions start with no variables of the parent's.
// - Retry (ErrorEquals, MaxAttempts default 3, IntervalSeconds, BackoffRate; the waits are recorded, not slept)
//   and Catch (Output, Assign, Next). States.ALL matches every error except States.DataLimitExceeded and
//   States.Runtime; a state's result or output above 256 KiB is States.DataLimitExceeded.
// Any field or state type it does not implement is an error, never ignored: a new field in the template makes the
// tests fail until the runner learns it.
const jsonata = require('jsonata');
const yaml = require('js-yaml');
const crypto = require('crypto');
const fs = require('fs');

const PAYLOAD_LIMIT_BYTES = 256 * 1024; // Step Functions' quota for a state's input, output and result

class StatesError extends Error {
  constructor(error, cause) {
    super(`${error}: ${cause}`);
    this.error = error;
    this.cause = cause;
  }
}

// CloudFormation's short-form tags, so the template loads as plain YAML data.
const CFN_TAGS = ['Ref', 'Sub', 'GetAtt', 'Join', 'If', 'Equals', 'Not', 'Or', 'And', 'FindInMap', 'Select', 'Split',
  'Condition', 'Base64', 'GetAZs', 'ImportValue'];
const CFN_SCHEMA = yaml.DEFAULT_SCHEMA.extend(CFN_TAGS.flatMap((tag) => ['scalar', 'sequence', 'mapping'].map((kind) =>
  new yaml.Type(`!${tag}`, { kind, construct: (data) => ({ [tag === 'Ref' || tag === 'Condition' ? tag : `Fn::${tag}`]: data }) }))));

function loadTemplate(path) {
  return yaml.load(fs.readFileSync(path, 'utf8'), { schema: CFN_SCHEMA });
}

/**
 * The state machine's Definition with its DefinitionSubstitutions replaced by `values`, as CloudFormation does at
 * deploy time. Every substitution the template declares must be given, and every ${Name} must be declared.
 */
function definitionOf(template, logicalId, values) {
  const props = template.Resources[logicalId].Properties;
  const declared = Object.keys(props.DefinitionSubstitutions).sort();
  const given = Object.keys(values).sort();
  if (JSON.stringify(declared) !== JSON.stringify(given)) {
    throw new Error(`substitutions: the template declares ${declared.join(',')}; the test gives ${given.join(',')}`);
  }
  const text = JSON.stringify(props.Definition).replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name) => {
    if (!(name in values)) throw new Error(`the definition uses \${${name}}, which DefinitionSubstitutions does not declare`);
    // Inside a JSON string: escape what the value holds.
    return JSON.stringify(String(values[name])).slice(1, -1);
  });
  const definition = JSON.parse(text);
  if (definition.QueryLanguage !== 'JSONata') throw new Error('the runner executes JSONata state machines only');
  return definition;
}

function isExpression(v) {
  return typeof v === 'string' && v.startsWith('{%') && v.endsWith('%}');
}

// The functions Step Functions adds to JSONata that the definition may call ("JSONata functions provided by Step
// Functions"); $eval is not available there, so it is not here either.
const STEP_FUNCTIONS_FUNCTIONS = {
  parse: (text) => {
    if (typeof text !== 'string') throw new Error(`$parse takes a string, got ${typeof text}`);
    return JSON.parse(text);
  },
  eval: () => {
    throw new Error('$eval is not available in Step Functions; use $parse');
  },
};

const compiled = new Map(); // source -> parsed expression: a Map of many items evaluates the same few again and again

async function evaluateExpression(source, bindings, where) {
  let expr = compiled.get(source);
  try {
    expr ??= jsonata(source);
    compiled.set(source, expr);
  } catch (e) {
    throw new StatesError('States.QueryEvaluationError', `${where}: cannot parse ${source.trim()}: ${e.message}`);
  }
  let value;
  try {
    value = await expr.evaluate(undefined, { ...STEP_FUNCTIONS_FUNCTIONS, ...bindings });
  } catch (e) {
    throw new StatesError('States.QueryEvaluationError', `${where}: ${source.trim()}: ${e.message}`);
  }
  if (value === undefined) {
    throw new StatesError('States.QueryEvaluationError', `${where}: the JSONata expression '${source.trim()}' returned nothing (undefined)`);
  }
  // JSONata sequences and frozen objects become plain JSON, as Step Functions serialises every value.
  return JSON.parse(JSON.stringify(value));
}

/** A field's value: JSON with "{% %}" strings evaluated at any depth. */
async function evaluateField(value, bindings, where) {
  if (isExpression(value)) return evaluateExpression(value.slice(2, -2), bindings, where);
  if (typeof value === 'string' && value.includes('{%')) {
    throw new Error(`${where}: "{% %}" must enclose the whole string: ${value}`);
  }
  if (Array.isArray(value)) {
    const out = [];
    for (let i = 0; i < value.length; i++) out.push(await evaluateField(value[i], bindings, `${where}[${i}]`));
    return out;
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = await evaluateField(v, bindings, `${where}.${k}`);
    return out;
  }
  return value;
}

function sizeOf(value) {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

function checkSize(value, where) {
  const n = sizeOf(value);
  if (n > PAYLOAD_LIMIT_BYTES) {
    throw new StatesError('States.DataLimitExceeded', `${where} is ${n} bytes, above the ${PAYLOAD_LIMIT_BYTES}-byte quota`);
  }
}

function matches(errorEquals, error) {
  return errorEquals.some((e) => e === error ||
    (e === 'States.ALL' && error !== 'States.DataLimitExceeded' && error !== 'States.Runtime') ||
    (e === 'States.TaskFailed' && error !== 'States.Timeout' && error !== 'States.DataLimitExceeded' && error !== 'States.Runtime'));
}

const ALLOWED_FIELDS = {
  common: ['Type', 'Comment', 'QueryLanguage', 'Next', 'End', 'Assign', 'Output'],
  Pass: [],
  Succeed: [],
  Choice: ['Choices', 'Default'],
  Task: ['Resource', 'Arguments', 'Retry', 'Catch'],
  Map: ['Items', 'ItemSelector', 'ItemProcessor', 'MaxConcurrency', 'ToleratedFailurePercentage', 'ResultWriter', 'Retry', 'Catch'],
};

function checkFields(name, state) {
  const allowed = ALLOWED_FIELDS[state.Type];
  if (!allowed) throw new Error(`state ${name}: the runner does not implement Type ${state.Type}`);
  for (const field of Object.keys(state)) {
    if (!ALLOWED_FIELDS.common.includes(field) && !allowed.includes(field)) {
      throw new Error(`state ${name}: the runner does not implement the field ${field}`);
    }
  }
  if (state.Type === 'Succeed' && (state.Next || state.End)) throw new Error(`state ${name}: Succeed takes no Next/End`);
}

class Execution {
  /**
   * @param definition a JSONata state machine (definitionOf) or a Map's ItemProcessor
   * @param world { services: { [resourceArn]: async (args, ctx) => result }, s3: Map<string, string>, trace: [] }
   */
  constructor(definition, world, { name, stateMachineName = 'org-sweep', variables = {} } = {}) {
    this.definition = definition;
    this.world = world;
    this.name = name ?? crypto.randomUUID();
    this.variables = { ...variables };
    this.context = {
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:${stateMachineName}:${this.name}`,
        Name: this.name,
        StartTime: new Date(0).toISOString(),
        RoleArn: 'arn:aws:iam::123456789012:role/org-sweep-state-machine',
        RedriveCount: 0,
      },
      StateMachine: { Id: `arn:aws:states:us-east-1:123456789012:stateMachine:${stateMachineName}`, Name: stateMachineName },
    };
    this.stateMachineName = stateMachineName;
  }

  async run(input) {
    this.context.Execution.Input = input;
    let name = this.definition.StartAt;
    let data = input;
    for (let transitions = 0; ; transitions++) {
      if (transitions > 10_000) throw new Error('more than 10000 transitions: a loop that never ends');
      const state = this.definition.States[name];
      if (!state) throw new Error(`no state named ${name}`);
      checkFields(name, state);
      this.world.trace.push({ execution: this.name, state: name });
      const { output, next } = await this.step(name, state, data);
      checkSize(output, `the output of ${name}`);
      if (state.Type === 'Succeed' || (state.End && !next)) return output;
      data = output;
      name = next;
    }
  }

  bindings(states) {
    return { ...this.variables, states };
  }

  stateContext(name, retryCount) {
    return { ...this.context, State: { Name: name, EnteredTime: new Date(0).toISOString(), RetryCount: retryCount } };
  }

  async step(name, state, input) {
    const states = { input, context: this.stateContext(name, 0) };
    switch (state.Type) {
      case 'Pass':
      case 'Succeed':
        return this.finish(name, state, states, input, state.Next);
      case 'Choice':
        return this.choose(name, state, states, input);
      case 'Task':
      case 'Map':
        return this.act(name, state, states, input);
      default:
        throw new Error(`state ${name}: Type ${state.Type}`);
    }
  }

  /** Assign and Output from the same $states and the variables on entry; the assignments land afterwards. */
  async finish(name, state, states, defaultOutput, next, assign = state.Assign) {
    const bindings = this.bindings(states);
    const output = state.Output === undefined ? defaultOutput : await evaluateField(state.Output, bindings, `${name}.Output`);
    const assigned = assign === undefined ? {} : await evaluateField(assign, bindings, `${name}.Assign`);
    Object.assign(this.variables, assigned);
    return { output, next };
  }

  async choose(name, state, states, input) {
    const bindings = this.bindings(states);
    for (let i = 0; i < state.Choices.length; i++) {
      const rule = state.Choices[i];
      for (const field of Object.keys(rule)) {
        if (!['Condition', 'Next', 'Assign', 'Output', 'Comment'].includes(field)) {
          throw new Error(`state ${name}: the runner does not implement the choice rule field ${field}`);
        }
      }
      const ok = await evaluateField(rule.Condition, bindings, `${name}.Choices[${i}].Condition`);
      if (typeof ok !== 'boolean') {
        throw new StatesError('States.QueryEvaluationError', `${name}.Choices[${i}].Condition returned ${JSON.stringify(ok)}, not a boolean`);
      }
      if (ok) return this.finish(name, { Output: rule.Output ?? state.Output }, states, input, rule.Next, rule.Assign);
    }
    if (!state.Default) throw new StatesError('States.NoChoiceMatched', `${name}: no rule matched and there is no Default`);
    return this.finish(name, state, states, input, state.Default);
  }

  /** Task and Map: the work, its retries, then Assign/Output on the result or a Catch. */
  async act(name, state, states, input) {
    const counts = new Map();
    for (let attempt = 0; ; attempt++) {
      const attemptStates = { ...states, context: this.stateContext(name, attempt) };
      try {
        const result = state.Type === 'Task' ? await this.task(name, state, attemptStates) : await this.map(name, state, attemptStates);
        checkSize(result, `the result of ${name}`);
        return await this.finish(name, state, { ...attemptStates, result }, result, state.Next);
      } catch (e) {
        if (!(e instanceof StatesError)) throw e;
        const retrier = (state.Retry ?? []).find((r) => matches(r.ErrorEquals, e.error));
        if (retrier) {
          const used = counts.get(retrier) ?? 0;
          if (used < (retrier.MaxAttempts ?? 3)) {
            counts.set(retrier, used + 1);
            const wait = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** used;
            this.world.trace.push({ execution: this.name, state: name, retry: e.error, waitSeconds: wait });
            continue;
          }
        }
        const catcher = (state.Catch ?? []).find((c) => matches(c.ErrorEquals, e.error));
        if (!catcher) throw e;
        const errorOutput = { Error: e.error, Cause: e.cause };
        this.world.trace.push({ execution: this.name, state: name, caught: e.error });
        return this.finish(name, { Output: catcher.Output, Assign: catcher.Assign }, { ...attemptStates, errorOutput },
          errorOutput, catcher.Next);
      }
    }
  }

  async task(name, state, states) {
    const service = this.world.services[state.Resource];
    if (!service) throw new Error(`state ${name}: no service answers ${state.Resource}`);
    const args = state.Arguments === undefined ? {} : await evaluateField(state.Arguments, this.bindings(states), `${name}.Arguments`);
    checkSize(args, `the arguments of ${name}`);
    this.world.trace.push({ execution: this.name, state: name, resource: state.Resource, arguments: args });
    return service(args, { execution: this, state: name });
  }

  async map(name, state, states) {
    const processor = state.ItemProcessor;
    if (processor.ProcessorConfig?.Mode !== 'DISTRIBUTED') throw new Error(`state ${name}: only Distributed Map is implemented`);
    const bindings = this.bindings(states);
    const items = await evaluateField(state.Items, bindings, `${name}.Items`);
    if (!Array.isArray(items)) throw new StatesError('States.QueryEvaluationError', `${name}.Items is not an array: ${JSON.stringify(items)}`);
    const maxConcurrency = state.MaxConcurrency === undefined ? 0 : await evaluateField(state.MaxConcurrency, bindings, `${name}.MaxConcurrency`);
    const tolerated = state.ToleratedFailurePercentage === undefined ? 0
      : await evaluateField(state.ToleratedFailurePercentage, bindings, `${name}.ToleratedFailurePercentage`);
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0) {
      throw new StatesError('States.QueryEvaluationError', `${name}.MaxConcurrency must be a non-negative integer, got ${JSON.stringify(maxConcurrency)}`);
    }
    if (typeof tolerated !== 'number' || tolerated < 0 || tolerated > 100) {
      throw new StatesError('States.QueryEvaluationError', `${name}.ToleratedFailurePercentage must be 0-100, got ${JSON.stringify(tolerated)}`);
    }
    const mapRunId = crypto.randomUUID();
    const mapRunArn = `arn:aws:states:us-east-1:123456789012:mapRun:${this.stateMachineName}/${name}:${mapRunId}`;
    this.world.mapRuns.push({ state: name, items, maxConcurrency, tolerated });

    const children = [];
    for (let index = 0; index < items.length; index++) {
      const itemStates = { input: states.input, context: { ...states.context, Map: { Item: { Index: index, Value: items[index] } } } };
      const childInput = state.ItemSelector === undefined ? items[index]
        : await evaluateField(state.ItemSelector, this.bindings(itemStates), `${name}.ItemSelector`);
      children.push(childInput);
    }
    // Items run MaxConcurrency at a time (0: no limit), in child executions with variables of their own.
    const rows = new Array(children.length);
    let nextIndex = 0;
    const worker = async () => {
      while (nextIndex < children.length) {
        const i = nextIndex++;
        const child = new Execution(processor, this.world, { name: `${mapRunId.slice(0, 8)}-${i}`, stateMachineName: `${this.stateMachineName}/${name}` });
        const base = { ExecutionArn: child.context.Execution.Id, Name: child.name, Input: JSON.stringify(children[i]),
          InputDetails: { Included: true }, StateMachineArn: child.context.StateMachine.Id, RedriveCount: 0,
          RedriveStatus: 'NOT_REDRIVABLE', StartDate: new Date(0).toISOString(), StopDate: new Date(0).toISOString() };
        try {
          const output = await child.run(children[i]);
          rows[i] = { ...base, Status: 'SUCCEEDED', Output: JSON.stringify(output), OutputDetails: { Included: true } };
        } catch (e) {
          if (!(e instanceof StatesError)) throw e;
          rows[i] = { ...base, Status: 'FAILED', Error: e.error, Cause: e.cause };
        }
      }
    };
    const width = maxConcurrency === 0 ? children.length : Math.min(maxConcurrency, children.length);
    await Promise.all(Array.from({ length: Math.max(width, 1) }, worker));

    const failed = rows.filter((r) => r.Status === 'FAILED');
    const details = state.ResultWriter ? await this.writeResults(name, state.ResultWriter, bindings, mapRunId, mapRunArn, rows) : undefined;
    if (rows.length > 0 && (failed.length * 100) / rows.length > tolerated) {
      throw new StatesError('States.ExceedToleratedFailureThreshold',
        `${failed.length} of ${rows.length} items failed, above the tolerated ${tolerated}%`);
    }
    return details ? { MapRunArn: mapRunArn, ResultWriterDetails: details } : rows.map((r) => (r.Output ? JSON.parse(r.Output) : r));
  }

  async writeResults(name, writer, bindings, mapRunId, mapRunArn, rows) {
    for (const field of Object.keys(writer)) {
      if (!['Resource', 'Arguments'].includes(field)) throw new Error(`state ${name}: the runner does not implement ResultWriter.${field}`);
    }
    if (writer.Resource !== 'arn:aws:states:::s3:putObject') throw new Error(`state ${name}: ResultWriter.Resource ${writer.Resource}`);
    const args = await evaluateField(writer.Arguments, bindings, `${name}.ResultWriter.Arguments`);
    const prefix = `${args.Prefix}/${mapRunId}`;
    const files = { FAILED: [], PENDING: [], SUCCEEDED: [] };
    for (const status of ['SUCCEEDED', 'FAILED']) {
      const entries = rows.filter((r) => r.Status === status);
      if (entries.length === 0) continue;
      const key = `${prefix}/${status}_0.json`;
      const body = JSON.stringify(entries);
      this.world.s3.set(`${args.Bucket}/${key}`, body);
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${prefix}/manifest.json`;
    this.world.s3.set(`${args.Bucket}/${manifestKey}`,
      JSON.stringify({ DestinationBucket: args.Bucket, MapRunArn: mapRunArn, ResultFiles: files }));
    return { Bucket: args.Bucket, Key: manifestKey };
  }
}

/** S3 GetObject as the aws-sdk integration answers it: Body as a string; a missing key is S3.NoSuchKeyException. */
function s3GetObject(world) {
  return async (args) => {
    const body = world.s3.get(`${args.Bucket}/${args.Key}`);
    if (body === undefined) throw new StatesError('S3.NoSuchKeyException', `The specified key does not exist: ${args.Key}`);
    return { Body: body, ContentLength: Buffer.byteLength(body), ContentType: 'application/json' };
  };
}

/** lambda:invoke's optimised integration: {Payload, StatusCode}; a function error is an error named by its type. */
function lambdaInvoke(handler) {
  return async (args, ctx) => {
    let payload;
    try {
      payload = await handler(args.Payload, args.FunctionName, ctx);
    } catch (e) {
      if (e instanceof StatesError) throw e;
      throw new StatesError(e.errorType ?? 'Lambda.Unknown', JSON.stringify({ errorType: e.errorType, errorMessage: e.message }));
    }
    return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
  };
}

function newWorld(services) {
  const world = { s3: new Map(), trace: [], mapRuns: [], services: {} };
  world.services = { 'arn:aws:states:::aws-sdk:s3:getObject': s3GetObject(world), ...services(world) };
  return world;
}

module.exports = { Execution, StatesError, definitionOf, evaluateField, lambdaInvoke, loadTemplate, newWorld, PAYLOAD_LIMIT_BYTES };
