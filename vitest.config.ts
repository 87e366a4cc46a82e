import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and sockets; two cores do not like many at once.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        // Judges the host as it is: must run alone, before any scenario of another test starts.
        test: { name: 'quiet', include: ['test/quiet/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/quiet/**', '**/node_modules/**'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
