/**
 * Two vitest projects:
 * - unit: pure code, no servers (`*.test.ts`);
 * - integration: real Kafka, Redis and schema registry (`*.integration.test.ts` and test/),
 *   located or started once by packages/testkit's global setup.
 */
import { defineConfig } from 'vitest/config';

const integration = ['**/*.integration.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    coverage: {
      provider: 'v8',
      include: ['packages/domain/src/**/*.ts'],
      exclude: ['**/*.test.ts'],
      reporter: ['text-summary', 'text'],
    },
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          // Property tests run thousands of cases: on a loaded 2-core machine 5 s is too tight a guard.
          testTimeout: 30_000,
          include: ['{packages,services,infra}/*/src/**/*.test.ts', 'infra/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...integration],
        },
      },
      {
        test: {
          name: 'integration',
          // After the unit project: pure tests fail fast before servers are touched.
          sequence: { groupOrder: 1 },
          include: [
            '{packages,services,infra}/*/src/**/*.integration.test.ts',
            'infra/src/**/*.integration.test.ts',
            'bench/src/**/*.integration.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**'],
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration files share one broker and one Redis; two at a time suits 2 cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
