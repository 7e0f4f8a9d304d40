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
