import { describe, expect, it } from 'vitest';
import { csvSafeText, csvUnescapeText } from './csv-cell.js';

describe('CSV cells (formula injection)', () => {
  it('quotes text that starts with = + - @ tab or CR, and nothing else', () => {
    expect(csvSafeText("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    for (const s of ['+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvSafeText(s)).toBe(`'${s}`);
    for (const s of ['plain', '', "'quoted", '1-2', 'a=b', ' =x']) expect(csvSafeText(s)).toBe(s);
  });

  it('import reads back exactly what export wrote', () => {
    for (const s of ['=x', "'=x", "''=x", "'plain", 'plain', '-', "'", '@', '\t', "'-5"]) expect(csvUnescapeText(csvSafeText(s))).toBe(s);
  });
});
