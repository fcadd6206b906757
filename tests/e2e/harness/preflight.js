'use strict';
// Fails early, with the fix, when the pinned npm packages are not installed.

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
for (const pkg of ['socket.io-client', 'socket.io', 'ws']) {
  if (!fs.existsSync(path.join(root, 'node_modules', pkg, 'package.json'))) {
    throw new Error(`tests/e2e/node_modules/${pkg} is missing: run \`npm ci\` in ${root} ` +
                    '(tests/run-all.sh and the e2e.npm_ci CTest do it)');
  }
}
