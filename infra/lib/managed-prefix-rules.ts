/**
 * Rules on the managed prefixes beyond their characters (`managedPrefixSchema`). IAM grants the
 * secrets under a prefix as `secret:<prefix>*`, a literal string match, so the prefix itself is the
 * boundary of everything the orchestrator may touch:
 * - it must end in `/`, or `prod/payments` would also grant `prod/payments-old/…`;
 * - it must have at least two segments (`prod/app-team/`): `prod/` would hand the orchestrator every
 *   secret of an environment, other teams' included (review M3);
 * - no prefix may lie within another (or repeat it): two deployments, rules or grants would then
 *   claim the same secrets, and the narrower one would silently widen to the broader one.
 */

/** Why `prefix` has the wrong shape, or undefined when it is fine. Only for literal strings. */
export function prefixShapeProblem(prefix: string): string | undefined {
  if (!prefix.endsWith('/')) {
    return `must end with "/": IAM matches secret:${prefix}* literally, so it would also cover "${prefix}-other/…"`;
  }
  if (prefix.split('/').filter((segment) => segment !== '').length < 2) {
    return `must have at least two segments, e.g. "${prefix}app-team/": a one-segment prefix hands the orchestrator every secret under "${prefix}", other teams' included`;
  }
  return undefined;
}

/** One sentence per pair of prefixes that overlap (one equals or starts with the other). */
export function prefixOverlapProblems(prefixes: readonly string[]): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  prefixes.forEach((prefix, index) => {
    for (const earlier of prefixes.slice(0, index)) {
      if (earlier === prefix) {
        problems.push({ index, message: `managed prefix "${prefix}" is given more than once` });
      } else if (prefix.startsWith(earlier) || earlier.startsWith(prefix)) {
        const [outer, inner] = prefix.startsWith(earlier) ? [earlier, prefix] : [prefix, earlier];
        problems.push({
          index,
          message: `managed prefixes "${inner}" and "${outer}" overlap: every secret under "${inner}" is also under "${outer}"; keep only one`,
        });
      }
    }
  });
  return problems;
}
