import { commonErrors } from '../errors.js';

/**
 * Deepest nesting of arrays and objects a JSON body may have. Bodies nested thousands of levels
 * deep (a record's json field, a flow run input, a webhook body) overflowed the stack of the
 * recursive code that walks them and came back as 500s; legitimate documents are far shallower.
 * The text guard checks strings down to the same depth.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether JSON text nests deeper than `max`: one pass over the text, strings skipped, nothing parsed. */
export function jsonNestsDeeper(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string: its end is the next quote not escaped by a backslash.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

export const jsonTooDeep = () => commonErrors.INVALID_JSON(`The body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`);
