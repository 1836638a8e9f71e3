import { RE2JS } from 're2js';

/**
 * Regular expressions written by users (field patterns, expressions) never reach V8's
 * backtracking engine: `^(a|a)+$` against 30 `a`s and a `!` takes V8 minutes and blocks every
 * request of every organization. RE2 (re2js, pure JS) matches in time linear in the input, and
 * has no backreferences or lookaround — a pattern using them is refused when it is saved.
 */
export interface LinearRegex {
  /** Whether the pattern matches somewhere in `input` (like RegExp#test without the g flag). */
  test(input: string): boolean;
}

/** Compiles a JavaScript-syntax pattern (`flags`: i, m, s) for RE2; throws with RE2's reason when it cannot. */
export function compileLinearRegex(pattern: string, flags = ''): LinearRegex {
  const re = RE2JS.compile(RE2JS.translateRegExp(pattern), flagBits(flags));
  return { test: (input) => re.test(input) };
}

/** Why RE2 cannot compile the pattern, or null when it can. */
export function linearRegexError(pattern: string): string | null {
  try {
    compileLinearRegex(pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function flagBits(flags: string): number {
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  return bits;
}
