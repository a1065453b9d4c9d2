import { describe, expect, it } from 'vitest';
import { locateJsonError, parseJson } from '../../src/config/json.ts';
import { editDistance, nearestKeys } from '../../src/config/keys.ts';

describe('parseJson', () => {
  it('parses valid JSON, ignoring a byte-order mark', () => {
    expect(parseJson('\uFEFF{"a": [1, 2.5e-3, true, null, "x"]}')).toEqual({
      ok: true,
      value: { a: [1, 2.5e-3, true, null, 'x'] },
    });
  });

  it.each([
    ['{"a": }', 1, 7, 'expected a value, found "}"'],
    ['{"a": 1,}', 1, 9, 'trailing comma before "}" is not allowed in JSON'],
    ['[1, 2,]', 1, 7, 'trailing comma before "]" is not allowed in JSON'],
    ['{\n  // note\n  "a": 1\n}', 2, 3, 'comments are not allowed in JSON'],
    ["{'a': 1}", 1, 2, 'strings and property names need double quotes in JSON, not single quotes'],
    ['{"a": 1 /* c */}', 1, 9, 'comments are not allowed in JSON'],
    ['{"a" 1}', 1, 6, 'expected ":" after the property name, found "1"'],
    ['{"a": 01}', 1, 8, 'invalid number (JSON allows no leading zeros, and needs digits after "." and "e")'],
    ['{"a": "x', 1, 7, 'unterminated string'],
    ['{"a": 1} {', 1, 10, 'unexpected "{" after the end of the JSON value'],
    ['[1, 2', 1, 6, 'expected "," or "]" after a list element, found the end of the file'],
    ['{"a": tru}', 1, 7, 'expected a value, found "t"'],
  ])('%j → line %i, column %i: %s', (text, line, column, reason) => {
    expect(JSON.parse.bind(null, text)).toThrow();
    expect(parseJson(text)).toEqual({ ok: false, error: { line, column, reason } });
  });

  it('finds no error in what JSON.parse accepts', () => {
    for (const t of ['0', '-0.5e+3', '"\\u00e9\\n"', '[]', '{}', ' {"a":{"b":[[]]}} '])
      expect(locateJsonError(t)).toBeNull();
  });
});

describe('nearestKeys', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('d_modle', 'd_model')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests nothing when nothing is close', () => {
    expect(nearestKeys('model.xyz', ['model.d_model', 'model.act'])).toEqual([]);
  });
});
