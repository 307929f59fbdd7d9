import { defineConfig } from 'vitest/config';

// Tests of hardway itself (npm test runs lint and typecheck first):
//   unit: pure logic and local tools (cfssl, ctr against Docker's containerd), seconds.
//   lab:  *.lab.test.ts against one real lab booted by harness/testing/lab-global-setup.ts.
//   lab-kthw: the KTHW-layout lab's tests, which boot and remove that lab themselves (no seed lab).
//   lab-vagrant: the Vagrant provider's lab (real vagrant, docker provider), booted and removed by
//         its own test through the CLI.
// What a CI run shows (npm test, 2026-12-01): the lab project's globalSetup boots the seed lab
// first, then the lab-kthw and lab-vagrant files run one after the other (groupOrder 1, 2) while
// the seed lab idles, then the lab project's files: never two labs installing at once on 2 cores.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['harness/**/*.test.ts', 'suites/**/*.test.ts'],
          exclude: ['**/*.lab.test.ts', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['harness/**/*.lab.test.ts', 'suites/**/*.lab.test.ts'],
          exclude: ['harness/layouts/kthw/**', 'harness/providers/vagrant/**', 'node_modules/**'],
          globalSetup: ['harness/testing/lab-global-setup.ts'],
          // One lab, shared: lab tests run one file at a time (faults must not overlap).
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
        },
      },
      {
        test: {
          name: 'lab-kthw',
          include: ['harness/layouts/kthw/**/*.lab.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'lab-vagrant',
          include: ['harness/providers/vagrant/**/*.lab.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
