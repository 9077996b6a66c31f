#!/usr/bin/env node
// The jobq CLI. See src/cli/argv.ts for why argv is rewritten before oclif sees it.
import { flush, run, settings } from '@oclif/core';
import { rewriteArgv, valueFlagsFromManifest } from '../dist/src/cli/argv.js';
import { reportFatal } from '../dist/src/cli/errors.js';

// jobq runs plugins' compiled JavaScript only: function tasks run on threads no TypeScript loader reaches.
settings.enableAutoTranspile = false;
process.on('unhandledRejection', (reason) => reportFatal(reason));
try {
  const manifest = new URL('../oclif.manifest.json', import.meta.url);
  await run(rewriteArgv(process.argv.slice(2), valueFlagsFromManifest(manifest)), import.meta.url);
  await flush();
} catch (err) {
  // Errors oclif raises before a command runs (an unknown command), in jobq's one-line style.
  reportFatal(err);
}
