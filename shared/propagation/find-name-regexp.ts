import { RE2JS } from 're2js';

/**
 * The longest `find.name.regexp` the planner evaluates, in characters. RE2 matching is linear in
 * the name, but compiling is linear in the pattern's expanded size: at this length the worst case
 * (a run of `(?:\pL?){999}`) costs about a second, so a plan stays far inside the step's timeout.
 * ESO has no such cap; a longer pattern is not evaluated and counts as selecting the secret.
 */
export const MAX_FIND_REGEXP_LENGTH = 1000;

/** Why a `find.name.regexp` gives no verdict: ESO refuses it, or the planner does not evaluate it. */
export type RegexpProblem = 'regexp-invalid' | 'regexp-too-long';

export type NameMatcher = (name: string) => boolean;

/**
 * Compiles `find.name.regexp` as ESO does (`regexp.Compile`, Go's RE2: `(?i)`, `\z`, POSIX classes;
 * no lookaround or backreferences; repeat counts up to 1000) and matches unanchored, like Go's
 * `MatchString`. re2js is a port of that engine, so matching takes linear time.
 * Patterns are compiled once per call of the returned function's owner, whatever the number of
 * ExternalSecrets sharing them (a ClusterExternalSecret's children all carry the same one).
 *
 * @example
 * const compile = nameRegexpCompiler();
 * const match = compile('(?i)^PROD/');
 * typeof match === 'function' && match('prod/db'); // true
 * compile('^prod/(?=db)'); // 'regexp-invalid', as ESO refuses it
 */
export function nameRegexpCompiler(): (pattern: string) => NameMatcher | RegexpProblem {
  const compiled = new Map<string, NameMatcher | RegexpProblem>();
  return (pattern) => {
    let result = compiled.get(pattern);
    if (result === undefined) {
      result = compile(pattern);
      compiled.set(pattern, result);
    }
    return result;
  };
}

function compile(pattern: string): NameMatcher | RegexpProblem {
  if (pattern.length > MAX_FIND_REGEXP_LENGTH) return 'regexp-too-long';
  try {
    const re = RE2JS.compile(pattern);
    return (name) => re.test(name);
  } catch {
    // Syntax errors (RE2JSSyntaxException) carry the pattern; only the verdict leaves here.
    return 'regexp-invalid';
  }
}
