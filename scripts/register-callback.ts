/**
 * Registers this backend's callback URL with the TIC service (vendor document 4.4).
 *
 *   npm run register-callback -- --api-url https://abc123.execute-api.eu-west-1.amazonaws.com --stage prod
 *   npm run register-callback -- --url https://example.com/tic/callback/<secret>
 *   npm run register-callback -- --remove
 *
 * With `--api-url`, the callback secret is read from the same place the functions read it
 * (SSM under /tic-recording/<stage>, or the environment with SECRETS_SOURCE=env) and appended
 * as `/tic/callback/<secret>`. The vendor sends a test request to the URL, which must answer
 * `{"error_code":0}`, so the stack must be deployed (or `npm start` running) first.
 * The secret and the TicKey are never printed.
 */
import { parseArgs } from 'node:util';
import { registerCallback } from '../lib/register-callback';

const HELP = `usage: npm run register-callback -- (--api-url URL | --url URL | --remove) [--stage STAGE]
  --api-url URL   base URL of the deployed HTTP API; the secret path is appended
  --url URL       the full callback URL, secret included
  --remove        remove the callback URL (the vendor then only answers queries)
  --stage STAGE   SSM prefix /tic-recording/STAGE (default: dev) unless SECRETS_SOURCE=env
environment: TIC_SDKAPPID (required), TIC_BASE_URL (default https://iclass.api.qcloud.com), AWS_REGION`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'api-url': { type: 'string' },
        url: { type: 'string' },
        remove: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'dev' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${HELP}`);
    process.exit(2);
  }
  const targets = [values['api-url'], values.url, values.remove ? 'remove' : undefined].filter(Boolean);
  if (values.help || targets.length !== 1) {
    console.error(HELP);
    process.exit(values.help ? 0 : 2);
  }
  const env = { SSM_PREFIX: `/tic-recording/${values.stage}`, ...process.env };
  const result = await registerCallback({
    env,
    target: values.remove ? { kind: 'remove' } : values.url ? { kind: 'url', url: values.url } : { kind: 'api', apiUrl: values['api-url']! },
  });
  console.log(`${result.action}: ${result.maskedUrl} (random ${result.random})`);
}

main().catch((error: Error & { code?: number; random?: number }) => {
  // TicError and ConfigError messages carry codes and names, never the key or the secret.
  console.error(`register-callback failed: ${error.message}`);
  process.exit(1);
});
