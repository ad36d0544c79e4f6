#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli', 'checkwatch.cjs');
if (!fs.existsSync(cli)) {
  process.stderr.write('checkwatch: the CLI is not built yet. Run `npm install` (or `npm run build`) first.\n');
  process.exit(2);
}
require(cli);
