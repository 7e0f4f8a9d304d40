import { SecretNotManagedError } from './errors';
import { secretNameOf } from './secrets/secret-id';

/** True when the secret's name starts with one of the managed prefixes. */
export function isManaged(secretId: string, prefixes: readonly string[]): boolean {
  const name = secretNameOf(secretId);
  return prefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * Refuses a secret outside the managed prefixes, before any AWS call (defence in depth beside IAM).
 * @example assertManaged('prod/app/db', ['prod/app/']) // ok
 */
export function assertManaged(secretId: string, prefixes: readonly string[]): void {
  if (!isManaged(secretId, prefixes)) throw new SecretNotManagedError(secretId);
}

/**
 * Adds an issue for each rule whose prefix is outside every managed prefix (it could never apply)
 * and for each prefix given twice: the checks every prefix-keyed setting shares (rotation rules,
 * maximum ages). `path` leads to the rules array.
 */
export function checkPrefixRules(
  rules: readonly { readonly prefix: string }[],
  managedPrefixes: readonly string[],
  ctx: { addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[] }): void },
  path: readonly PropertyKey[],
): void {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    const at = [...path, index, 'prefix'];
    if (!isManaged(rule.prefix, managedPrefixes)) {
      ctx.addIssue({
        code: 'custom',
        path: at,
        message: `"${rule.prefix}" is not within a managed prefix (${managedPrefixes.join(', ')})`,
      });
    }
    if (seen.has(rule.prefix))
      ctx.addIssue({ code: 'custom', path: at, message: `"${rule.prefix}" is given twice` });
    seen.add(rule.prefix);
  });
}
