// Bundles src/backends/azure-sdk.ts and the SDK modules it loads into one
// file, in place of tsc's output (why: the comment in that module). Run by
// `npm run build`, after tsc; the module's types stay tsc's.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../src/backends/azure-sdk.ts', import.meta.url).pathname],
  outfile: new URL('../dist/src/backends/azure-sdk.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: {
    js: [
      '// Bundled by scripts/bundle-azure-sdk.js from @azure/storage-queue, @azure/data-tables and the packages they',
      '// load (MIT licensed, Copyright (c) Microsoft Corporation and their other authors; their licenses are in',
      "// node_modules: they stay jobq's dependencies).",
      // The SDK's CommonJS parts require Node's modules; an ES module has no `require` of its own.
      "import { createRequire as bundleRequire } from 'node:module';",
      'const require = bundleRequire(import.meta.url);',
    ].join('\n'),
  },
  legalComments: 'eof',
  logLevel: 'warning',
});
