import { defineConfig } from 'vitest/config';
import { timeoutScale } from './test/support/fault-harness-scale';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // CDK synthesis and cdk-nag take seconds each when the machine is busy (5 s by default).
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/moto-global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/support/cluster-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One control plane on two cores: files run one at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // The cluster project's moto, control plane and ESO, and the matrix's results table at the end.
          globalSetup: ['test/faults/global-setup.ts'],
          // A row's rotations grow with FAULT_SCALE (the long tier), and so does its time.
          testTimeout: 300_000 * timeoutScale(process.env.FAULT_SCALE),
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/moto-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
