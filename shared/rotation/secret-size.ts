import { SecretShapeError } from '../errors';

/** Secrets Manager's limit on SecretString, in bytes. */
export const MAX_SECRET_STRING_BYTES = 65_536;

export function assertWithinSizeLimit(secretName: string, value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SECRET_STRING_BYTES) {
    throw new SecretShapeError(
      `The new value of secret "${secretName}" would be ${bytes} bytes, over Secrets Manager's ${MAX_SECRET_STRING_BYTES}-byte limit`,
    );
  }
}
