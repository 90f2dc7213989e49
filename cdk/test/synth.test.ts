// `cdk synth` of the example app (the CLI from devDependencies, as a user runs it), then cfn-lint on every
// template it wrote. cfn-lint comes from PATH like tests/templates; a missing one fails the test.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { fakeAssetDirectory } from './fixtures';

const packageDir = path.resolve(__dirname, '..', '..');

it('cdk synth writes the example app, and every template passes cfn-lint', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ecrs-cdk-out-'));
  const cdk = path.join(packageDir, 'node_modules', '.bin', 'cdk');
  const synth = spawnSync(cdk, ['synth', '--no-notices', '--quiet', '-c', `assetDirectory=${fakeAssetDirectory()}`, '-o', out],
    { cwd: packageDir, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } });
  assert.equal(synth.status, 0, `cdk synth failed:\n${synth.stdout}\n${synth.stderr}`);
  const templates = fs.readdirSync(out).filter((f) => f.endsWith('.template.json')).map((f) => path.join(out, f));
  assert.deepEqual(templates.map((t) => path.basename(t)).sort(),
    ['EcrSweeperAccountTools.template.json', 'EcrSweeperServiceImages.template.json']);
  const service = JSON.parse(fs.readFileSync(path.join(out, 'EcrSweeperServiceImages.template.json'), 'utf8'));
  const types = Object.values(service.Resources).map((r: any) => r.Type);
  assert.equal(types.filter((t) => t === 'Custom::EmptyEcrRepository').length, 3);
  assert.equal(types.filter((t) => t === 'AWS::Lambda::Function').length, 1, 'one shared handler for the three');
  // W3005: CDK's lambda.Function always lists its role (and the role's default policy) in DependsOn besides the
  // GetAtt; that is aws-cdk-lib's choice, not ours, and only a redundancy warning.
  const lint = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', ...templates], { encoding: 'utf8' });
  assert.equal(lint.error, undefined, `cfn-lint could not run (is it on PATH?): ${lint.error}`);
  assert.equal(lint.status, 0, `cfn-lint:\n${lint.stdout}\n${lint.stderr}`);
});
