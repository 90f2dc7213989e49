#!/usr/bin/env node
// Copies the handler zips scripts/package built into assets/, the folder the constructs read by default:
//   npm run bundle [-- BUILD_DIR]     (default ../build/default)
// function.zip is the x86_64 package's older name; an architecture not built here is skipped with a note.
'use strict';
const fs = require('fs');
const path = require('path');

const buildDir = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'build', 'default'));
const assets = path.join(__dirname, '..', 'assets');
fs.mkdirSync(assets, { recursive: true });
const sources = {
  x86_64: ['function-x86_64.zip', 'function.zip'],
  arm64: ['function-arm64.zip'],
};
let copied = 0;
for (const [arch, names] of Object.entries(sources)) {
  const found = names.map((n) => path.join(buildDir, n)).find((p) => fs.existsSync(p));
  if (!found) {
    console.log(`bundle: no ${arch} zip in ${buildDir} (${names.join(' or ')}); constructs with that architecture will not synthesize`);
    continue;
  }
  fs.copyFileSync(found, path.join(assets, `function-${arch}.zip`));
  console.log(`bundle: ${found} -> assets/function-${arch}.zip`);
  copied += 1;
}
if (copied === 0) {
  console.error(`bundle: nothing to copy; build the package first (scripts/build default function_zip)`);
  process.exit(1);
}
