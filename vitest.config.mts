import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // Never let a test probe the ECS metadata address for credentials.
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    },
  },
});
