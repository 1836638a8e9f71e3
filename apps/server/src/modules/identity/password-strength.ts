import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/**
 * Refuses common and trivially guessable passwords, offline: zxcvbn's estimate against the
 * language-common lists (the most common passwords, keyboard patterns, sequences, repeats) and
 * the person's own name and email. Score 3 ("safely unguessable": ~10^8 guesses or more) is the
 * threshold: "12345678", "password", "p@ssw0rd", "Password123!" and one's email fail; a
 * passphrase such as "correct horse battery" passes.
 * NB: the estimate's cost grows with the length: only the first MAX_CHECKED characters are
 * scored (a longer password is no weaker than its prefix). A check takes 1–15 ms; the lists are
 * loaded once, on the first check (~60 ms).
 */
export const MIN_SCORE = 3;
const MAX_CHECKED = 100;

let factory: ZxcvbnFactory | undefined;
function estimator(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: MAX_CHECKED });
  return factory;
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
export function passwordProblem(password: string, personal: { name?: string; email?: string }): PasswordProblem | null {
  const inputs: string[] = [];
  if (personal.name) inputs.push(personal.name, ...personal.name.split(/\s+/).filter((w) => w.length >= 3));
  if (personal.email) inputs.push(personal.email, personal.email.split('@')[0] ?? '');
  const r = estimator().check(password, inputs.filter(Boolean));
  if (r.score >= MIN_SCORE) return null;
  const p = problemOf(r.feedback.warning);
  return { field: 'password', code: p.code, message: `${p.message}; use a longer passphrase of several unrelated words` };
}
