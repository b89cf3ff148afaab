#!/usr/bin/env node
// The `logfire-broker` admin CLI. It runs its TypeScript through tsx (a dependency), so a fresh clone works
// after `npm install` with no build step.
'use strict';
require('tsx/cjs/api').register();
require('../src/main.ts');
