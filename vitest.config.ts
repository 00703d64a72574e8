import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: run test files two at a time so the JVM of DynamoDB Local and the emulators do not starve.
    maxWorkers: 2,
    // The SDK warns that its releases from 2027 need Node 22; Lambda runs nodejs22.x, this machine Node 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // One DynamoDB Local and one fauxqs for the whole run (a JVM start costs seconds).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
