#!/usr/bin/env node
// First step of `npm start`, `npm test` and `npm run bench` on any machine, including a fresh clone:
// installs dependencies when node_modules is missing or older than package-lock.json, then builds
// (protobuf codegen + TypeScript, incremental). Uses only Node built-ins: it runs before deps exist.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const say = (msg) => process.stderr.write(`[ballast] ${msg}\n`);
const run = (cmd, args, quiet = false) =>
  execFileSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit', env: process.env });

const stamp = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(stamp) || statSync(stamp).mtimeMs < statSync(lock).mtimeMs) {
  say('installing dependencies (npm ci)…');
  try {
    run(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], true);
  } catch {
    // npm 11.19 writes lockfiles without other platforms' optional packages and then its own `npm ci`
    // refuses them as "out of sync". `npm install --no-save` installs the same locked versions
    // (package.json pins every dependency exactly) without rewriting the lockfile.
    say('npm ci refused the lockfile; installing the locked versions with npm install --no-save…');
    run(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error']);
  }
}
say('building (protobuf codegen + TypeScript)…');
run(npm, ['run', '--silent', 'build']);
