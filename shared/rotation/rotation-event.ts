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
  const parsed = rotationEventSchema.safeParse(event);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`);
    throw new InvalidEventError(`Malformed rotation event (${fields.join('; ')})`);
  }
  return parsed.data;
}
