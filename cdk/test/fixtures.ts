import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The end-of-central-directory record alone: a valid, empty zip. The constructs only hash and upload it.
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** A folder holding function-x86_64.zip and function-arm64.zip, as `npm run bundle` leaves assets/. */
export function fakeAssetDirectory(architectures: string[] = ['x86_64', 'arm64']): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecrs-cdk-assets-'));
  for (const arch of architectures) fs.writeFileSync(path.join(dir, `function-${arch}.zip`), EMPTY_ZIP);
  return dir;
}
