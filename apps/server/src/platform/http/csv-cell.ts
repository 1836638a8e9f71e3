/**
 * Text cells as a CSV file may carry them to a spreadsheet. NB: Excel, LibreOffice and Google
 * Sheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula:
 * `=cmd|' /C calc'!A0` in a record would run a program on the machine of whoever opens the
 * export. Per OWASP's CSV injection guidance such a cell gets a leading single quote, which
 * spreadsheets show as text. Only strings: a number-typed value such as -5 stays a number.
 * A text that already starts with quotes before such a character gets one more, so that
 * csvUnescapeText (imports) gives back exactly the text that was exported.
 */
const FORMULA = /^'*[=+\-@\t\r]/;

export function csvSafeText(s: string): string {
  return FORMULA.test(s) ? `'${s}` : s;
}

/** The inverse of csvSafeText: an exported cell read back by an import. */
export function csvUnescapeText(s: string): string {
  return s.startsWith("'") && FORMULA.test(s) ? s.slice(1) : s;
}
