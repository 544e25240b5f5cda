#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/ (built by `npm run build`). cli() exits
// the process itself, once stdout and stderr have been written out.
require('../dist/cli/main.js').cli(process.argv.slice(2));
