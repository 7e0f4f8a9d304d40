import { z } from 'zod';
import { managedPrefixSchema, parseEnvironment } from '../config';
import type { SweepConfig } from './run-sweep';

const sweepEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: z
    .string({ error: 'is required (comma-separated secret-name prefixes)' })
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
    )
    .pipe(z.array(managedPrefixSchema).min(1, 'must name at least one prefix')),
  ROTATOR_SWEEP_GRACE_HOURS: z.coerce.number().min(0).max(720).default(24),
  ROTATOR_STUCK_AFTER_MINUTES: z.coerce.number().int().min(5).max(10_080).default(60),
  ROTATOR_MAX_ROTATIONS_PER_RUN: z.coerce.number().int().min(0).max(1000).default(50),
});

/** Reads the sweep function's configuration once, at cold start, failing fast. */
export function loadSweepConfig(env: Readonly<Record<string, string | undefined>>): SweepConfig & {
  readonly managedPrefixes: readonly string[];
} {
  const c = parseEnvironment(sweepEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    graceMs: c.ROTATOR_SWEEP_GRACE_HOURS * 3_600_000,
    stuckAfterMs: c.ROTATOR_STUCK_AFTER_MINUTES * 60_000,
    maxRotationsPerRun: c.ROTATOR_MAX_ROTATIONS_PER_RUN,
  };
}
