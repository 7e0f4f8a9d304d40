import { InvalidEventError } from '../errors';
import type * as z from '../schema';

/** Parses one step's input; a malformed payload is an InvalidEventError naming the fields, never values. */
export function parseStepInput<T extends z.ZodMiniType>(schema: T, raw: unknown, step: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
    throw new InvalidEventError(`Malformed input for workflow step "${step}" (${fields.join('; ')})`);
  }
  return parsed.data;
}
