/**
 * `npm start`: the whole system on this machine (local/stack.ts), served by serverless-offline.
 * Ports and the token come from the environment: API_PORT (3000), TIC_EMULATOR_PORT (4100),
 * API_TOKEN (a dev token). Ctrl-C stops every child process and frees every port.
 */
import { JavaNotFoundError } from './aws-services';
import { PortInUseError } from './ports';
import { DEFAULT_DEV_TOKEN, startLocalStack } from './stack';

const DEFAULT_API_PORT = 3000;
const DEFAULT_EMULATOR_PORT = 4100;

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(`${name} must be a port number (1-65535), got "${raw}"`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  // The SDK warns that its releases from 2027 need Node 22; Lambda runs nodejs22.x, this machine may run Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const apiPort = portFrom('API_PORT', DEFAULT_API_PORT);
  const emulatorPort = portFrom('TIC_EMULATOR_PORT', DEFAULT_EMULATOR_PORT);
  const apiToken = process.env.API_TOKEN || DEFAULT_DEV_TOKEN;
  if (apiToken.length < 16) {
    console.error('API_TOKEN must be at least 16 characters');
    process.exit(2);
  }
  const verbose = process.env.LOCAL_STACK_VERBOSE === '1';
  const startedAt = Date.now();
  console.log('starting the local stack (DynamoDB Local, fauxqs, TIC emulator, serverless-offline)…');
  let shutdown: (signal: string, exitCode?: number) => void = () => undefined;
  const stack = await startLocalStack({
    onFatal: (error) => {
      console.error(`\n${error.message}`);
      shutdown('serverless-offline stopped', 1);
    },
    mode: 'offline',
    apiPort,
    emulatorPort,
    apiToken,
    log: (line) => {
      if (verbose || !line.startsWith('[offline]')) console.log(`  ${line}`);
    },
  });
  let stopping = false;
  shutdown = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.stop().then(
      () => {
        console.log('stopped.');
        process.exit(exitCode);
      },
      (error: Error) => {
        console.error(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(`
ready in ${seconds} s

  API            ${stack.apiUrl}
  bearer token   ${stack.apiToken}
  TIC emulator   ${stack.emulator.url}   (control API: ${stack.emulator.url}/_emulator/  — see emulator/README.md)

try it:
  curl -s -X POST ${stack.apiUrl}/recordings \\
    -H 'Authorization: Bearer ${stack.apiToken}' -H 'Content-Type: application/json' \\
    -d '{"room_id": 1234}'

or run the scripted class:  npm run demo
Ctrl-C stops everything.`);
}

main().catch((error: Error) => {
  if (error instanceof PortInUseError || error instanceof JavaNotFoundError) {
    console.error(`cannot start: ${error.message}`);
  } else {
    console.error(`cannot start: ${error.name}: ${error.message}`);
  }
  process.exit(1);
});
