#!/usr/bin/env node
// The jobq CLI. See src/cli/argv.ts for why argv is rewritten before oclif sees it.
import { execute, settings } from '@oclif/core';
import { rewriteArgv } from '../dist/src/cli/argv.js';
import { reportFatal } from '../dist/src/cli/errors.js';

// jobq runs plugins' compiled JavaScript only: function tasks run on threads no TypeScript loader reaches.
settings.enableAutoTranspile = false;
process.on('unhandledRejection', (reason) => reportFatal(reason));
await execute({ dir: import.meta.url, args: rewriteArgv(process.argv.slice(2)) });
