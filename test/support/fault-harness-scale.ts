/**
 * FAULT_SCALE's parser, on its own so that vitest.config.ts can read it without the harness's
 * imports (see FAULT_SCALE in fault-harness.ts).
 */
export function faultScale(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const scale = Number(value);
  if (!Number.isInteger(scale) || scale < 1 || scale > 50) {
    throw new RangeError(`FAULT_SCALE must be a whole number from 1 to 50, got ${JSON.stringify(value)}`);
  }
  return scale;
}

/**
 * The factor for the faults project's test timeout, read when vitest loads its config for every
 * project: an invalid FAULT_SCALE gives 1 here (the faults harness refuses it with its RangeError),
 * so that it cannot stop a unit or integration run.
 */
export function timeoutScale(value: string | undefined): number {
  try {
    return faultScale(value);
  } catch {
    return 1;
  }
}
