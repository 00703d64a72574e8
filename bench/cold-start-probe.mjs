// One cold start, run by bench/cold-start.ts in a fresh `node` process: imports the bundle given
// as the first argument (module init builds the function's SDK clients) and prints, as JSON, the
// time the import took, the time since the process began, and how many TCP connections were
// opened meanwhile (init must make none). Plain .mjs so that no TypeScript loader is timed.
import { subscribe } from 'node:diagnostics_channel';
import { pathToFileURL } from 'node:url';

let connections = 0;
subscribe('net.client.socket', () => {
  connections += 1;
});
const bundle = process.argv[2];
if (!bundle) throw new Error('usage: node cold-start-probe.mjs <bundle.mjs>');
const beforeMs = performance.now();
const loaded = await import(pathToFileURL(bundle).href);
const afterMs = performance.now();
process.stdout.write(
  JSON.stringify({
    importMs: afterMs - beforeMs,
    sinceProcessStartMs: afterMs,
    connections,
    exportsHandler: typeof loaded.handler === 'function',
  }),
);
