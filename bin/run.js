#!/usr/bin/env node
// The jobq CLI. See src/cli/argv.ts for why argv is rewritten before oclif sees it.
import { execute } from '@oclif/core';
import { rewriteArgv } from '../dist/src/cli/argv.js';
import { reportFatal } from '../dist/src/cli/errors.js';

process.on('unhandledRejection', (reason) => reportFatal(reason));
await execute({ dir: import.meta.url, args: rewriteArgv(process.argv.slice(2)) });
