import { InvalidEventError } from '../errors';
import * as z from '../schema';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** The event Secrets Manager sends a rotation function. Unknown extra fields are ignored. */
const rotationEventSchema = z.object({
  Step: z.enum(ROTATION_STEPS),
  SecretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  ClientRequestToken: z.string().check(z.minLength(32), z.maxLength(64)),
  RotationToken: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

export type RotationEvent = z.infer<typeof rotationEventSchema>;

/** Parses an untrusted event; the error names the bad fields, never their values. */
export function parseRotationEvent(event: unknown): RotationEvent {
  return parseEvent(rotationEventSchema, event, 'rotation');
}

/**
 * Parses an untrusted event with `schema`; an InvalidEventError names the bad fields and never
 * their values. `kind` names the event in the message (`Malformed <kind> event (…)`).
 */
export function parseEvent<T>(schema: z.ZodMiniType<T>, event: unknown, kind: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`);
    throw new InvalidEventError(`Malformed ${kind} event (${fields.join('; ')})`);
  }
  return parsed.data;
}
