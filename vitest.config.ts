import { defineConfig } from 'vitest/config';

// Unit and integration tests of hardway itself (the verification suites run under Playwright).
export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'suites/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
