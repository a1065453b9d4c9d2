/**
 * JSON text → value, with errors that give a line and column. V8's own messages only sometimes
 * carry a position (and their wording changes between Node versions), so on failure a small
 * scanner re-reads the text and finds the first syntax error itself.
 */

export interface JsonSyntaxError {
  line: number; // 1-based
  column: number; // 1-based, in UTF-16 code units
  reason: string;
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError };

export function parseJson(text: string): JsonParse {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors' byte-order mark
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const found = locateJsonError(body) ?? { pos: body.length, reason: 'not valid JSON' };
    return { ok: false, error: { ...lineColumn(body, found.pos), reason: found.reason } };
  }
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

class Stop {
  constructor(
    readonly pos: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y; // JSON's number grammar, sticky

const describeChar = (c: string | undefined): string => (c === undefined ? 'the end of the file' : JSON.stringify(c));

/** Position and reason of the first JSON syntax error in `text`, or null if it has none. */
export function locateJsonError(text: string): { pos: number; reason: string } | null {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  /** Fail at text[i], naming what was expected — or the JSON-dialect habit that put something else there. */
  const unexpected = (expected: string): never => {
    if (text[i] === '/') fail('comments are not allowed in JSON');
    if (text[i] === "'") fail('strings and property names need double quotes in JSON, not single quotes');
    return fail(`expected ${expected}, found ${describeChar(text[i])}`);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expectValue = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    unexpected('a value');
  };
  const object = (): void => {
    i++; // {
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === '}') fail('trailing comma before "}" is not allowed in JSON');
      if (text[i] !== '"') unexpected('a double-quoted property name');
      string();
      ws();
      if (text[i] !== ':') unexpected('":" after the property name');
      i++;
      expectValue();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      unexpected('"," or "}" after a property value');
    }
  };
  const array = (): void => {
    i++; // [
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === ']') fail('trailing comma before "]" is not allowed in JSON');
      expectValue();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      unexpected('"," or "]" after a list element');
    }
  };
  const string = (): void => {
    const start = i;
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string', start);
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail('control character (such as a raw newline or tab) inside a string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail(`invalid escape sequence in a string`);
      } else {
        i++;
      }
    }
  };
  const number = (): void => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) fail('invalid number');
    i += m![0].length;
    if (i < text.length && /[0-9.eE]/.test(text[i]))
      fail('invalid number (JSON allows no leading zeros, and needs digits after "." and "e")');
  };

  try {
    expectValue();
    ws();
    if (i < text.length) fail(`unexpected ${describeChar(text[i])} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { pos: e.pos, reason: e.reason };
    // the scanner recurses per bracket: a document nested deeper than the stack is its own answer
    if (e instanceof RangeError)
      return { pos: i, reason: 'nested too deeply (brackets within brackets beyond what can be read)' };
    throw e;
  }
}
