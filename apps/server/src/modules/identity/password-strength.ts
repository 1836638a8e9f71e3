import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/**
 * Refuses common and trivially guessable passwords, offline: zxcvbn's estimate against the
 * language-common lists (the most common passwords, keyboard patterns, sequences, repeats) and
 * the person's own name and email. Score 3 ("safely unguessable": ~10^8 guesses or more) is the
 * threshold: "12345678", "password", "p@ssw0rd", "Password123!" and one's email fail; a
 * passphrase such as "correct horse battery" passes.
 * NB: the estimate's cost grows faster than the length: only the first MAX_CHECKED characters
 * are scored (a longer password is no weaker than its prefix). A check takes a few ms. Loading
 * the lists and building the matcher takes ~0.3 s, so it happens once, on first use or when the
 * server warms it after it starts listening (warmPasswordCheck), and never in processes that
 * do not check passwords (the CLI, workers).
 */
export const MIN_SCORE = 3;
const MAX_CHECKED = 64;

let factory: Promise<ZxcvbnFactory> | undefined;
function estimator(): Promise<ZxcvbnFactory> {
  factory ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]).then(
    ([core, common]) => new core.ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs, maxLength: MAX_CHECKED }),
  );
  return factory;
}

/** Loads the lists ahead of the first sign-up (called once the API listens). */
export async function warmPasswordCheck(): Promise<void> {
  (await estimator()).check('warm up the matcher', []);
}

export interface PasswordProblem {
  field: 'password';
  code: 'common' | 'personal' | 'guessable';
  message: string;
}

/** Why the warning makes the password guessable, in words a person can act on. */
function problemOf(warning: string | null): Omit<PasswordProblem, 'field'> {
  switch (warning) {
    case 'topTen':
    case 'topHundred':
    case 'common':
    case 'pwned':
      return { code: 'common', message: 'is one of the most common passwords' };
    case 'similarToCommon':
      return { code: 'common', message: 'is a common password with small changes' };
    case 'userInputs':
      return { code: 'personal', message: 'contains your name or email address' };
    case 'simpleRepeat':
    case 'extendedRepeat':
      return { code: 'guessable', message: 'repeats characters or words' };
    case 'sequences':
      return { code: 'guessable', message: 'is a sequence such as "abcd" or "1234"' };
    case 'straightRow':
    case 'keyPattern':
      return { code: 'guessable', message: 'is a keyboard pattern' };
    case 'recentYears':
    case 'dates':
      return { code: 'guessable', message: 'is built on a date or year' };
    default:
      return { code: 'guessable', message: 'is too easy to guess' };
  }
}

/** Null when the password is strong enough; else the field problem to show the person. */
export async function passwordProblem(password: string, personal: { name?: string; email?: string }): Promise<PasswordProblem | null> {
  const inputs: string[] = [];
  if (personal.name) inputs.push(personal.name, ...personal.name.split(/\s+/).filter((w) => w.length >= 3));
  if (personal.email) inputs.push(personal.email, personal.email.split('@')[0] ?? '');
  const r = (await estimator()).check(password, inputs.filter(Boolean));
  if (r.score >= MIN_SCORE) return null;
  const p = problemOf(r.feedback.warning);
  return { field: 'password', code: p.code, message: `${p.message}; use a longer passphrase of several unrelated words` };
}
