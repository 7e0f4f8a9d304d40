import { InvalidEventError } from '../errors';
import { TRIGGERS } from '../ledger/ledger-port';
import * as z from '../schema';

/** A version id we choose ourselves: RotateSecret's ClientRequestToken takes 32 to 64 characters. */
export const versionIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9-]{32,64}$/, 'must be 32-64 letters, digits or dashes'));

/** What asks for one rotation of one managed secret, whoever sent it (EventBridge, a function URL, a CLI). */
const rotationRequestSchema = z.object({
  // Trimmed first, as each check runs in order: blank text is too short.
  secretId: z.string().check(z.trim(), z.minLength(1), z.maxLength(2048)),
  reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(512)),
  actor: z.string().check(z.trim(), z.minLength(1), z.maxLength(2048)),
  trigger: z.enum(TRIGGERS),
  emergency: z.boolean(),
  retirePrevious: z.boolean(),
  /**
   * The new version's id, when the caller chooses it (a retried request reuses it and changes
   * nothing the second time). @default a random UUID
   */
  versionId: z.optional(versionIdSchema),
});

export type RotationRequest = z.infer<typeof rotationRequestSchema>;

/** Parses an untrusted request; the error names the bad fields, never their values. */
export function parseRotationRequest(input: unknown): RotationRequest {
  const parsed = rotationRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidEventError(`Malformed rotation request (${issuesOf(parsed.error)})`);
  return parsed.data;
}

/** `field: problem` for each issue of a zod error, joined; never the offending value. */
export function issuesOf(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
}
