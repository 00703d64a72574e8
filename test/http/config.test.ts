import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import { parseApiTokens } from '../../lib/secrets';

const base = {
  TABLE_NAME: 'tasks',
  CHECK_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/checks',
  TIC_SDKAPPID: '1400127115',
  SECRETS_SOURCE: 'env',
};

describe('loadConfig', () => {
  it('reads a complete environment with the documented defaults', () => {
    const config = loadConfig(base);
    expect(config.tic).toEqual({ baseUrl: 'https://iclass.api.qcloud.com', sdkappid: 1400127115, timeoutMs: 5000 });
    expect(config.secrets).toEqual({ kind: 'env' });
    expect(config.dynamoEndpoint).toBeUndefined();
  });

  it.each([
    ['TABLE_NAME', { TABLE_NAME: '' }],
    ['TIC_SDKAPPID', { TIC_SDKAPPID: 'abc' }],
    ['CHECK_QUEUE_URL', { CHECK_QUEUE_URL: 'not a url' }],
    ['SSM_PREFIX', { SECRETS_SOURCE: 'ssm' }],
    ['SECRETS_SOURCE', { SECRETS_SOURCE: 'vault' }],
    ['TIC_TIMEOUT_MS', { TIC_TIMEOUT_MS: '-5' }],
  ])('fails fast naming %s', (variable, override) => {
    expect(() => loadConfig({ ...base, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...override })).toThrow(variable);
  });
});

describe('parseApiTokens', () => {
  it('reads named and anonymous tokens', () => {
    expect(parseApiTokens('ops:abcdefghijklmnop0001, qrstuvwxyz0123456789')).toEqual([
      { callerId: 'ops', token: 'abcdefghijklmnop0001' },
      { callerId: 'caller-2', token: 'qrstuvwxyz0123456789' },
    ]);
  });

  it('refuses short tokens without echoing them', () => {
    expect(() => parseApiTokens('ops:tiny-secret-x')).toThrow(/"ops" is shorter than 16/);
    expect(() => parseApiTokens('ops:tiny-secret-x')).not.toThrow(/tiny-secret-x/);
  });
});
