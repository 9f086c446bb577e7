#!/usr/bin/env node
// Bundles crikitd (packages/server/dist/main.js and everything it imports) into one minified ES module,
// packages/server/dist/crikitd.js, the `crikitd` bin. One file instead of some 400 modules: Node's module
// loader keeps per-module state for the life of the process, and the daemon starts with about 20 MiB less
// resident memory this way (`pnpm bench` reads it). The library's own modules are unchanged: programs that
// embed crikit import the packages. Run after `tsc -b` (`pnpm build` does both).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const server = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages/server');

await build({
  entryPoints: [path.join(server, 'dist/main.js')],
  outfile: path.join(server, 'dist/crikitd.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  // Class and function names stay: logs and errors print them.
  keepNames: true,
  // Licence comments of the bundled dependencies go to crikitd.js.LEGAL.txt beside it.
  legalComments: 'linked',
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as crikitCreateRequire } from 'node:module'; const require = crikitCreateRequire(import.meta.url);" },
  // The OpenTelemetry SDK stays out: @crikit/tracing imports it only when tracing is on, and then from
  // node_modules as @crikit/tracing/otel, so a daemon without tracing neither loads nor parses it.
  plugins: [{
    name: 'tracing-sdk-external',
    setup(b) {
      b.onResolve({ filter: /^\.\/otel-runtime\.js$/ }, args =>
        args.importer.includes(`${path.sep}tracing${path.sep}`) ? { path: '@crikit/tracing/otel', external: true } : undefined);
    },
  }],
  logLevel: 'warning',
});
