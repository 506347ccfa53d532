/**
 * Duplicate member names in JSON text. RFC 8259 §4 says names "SHOULD be unique" and leaves the behaviour for
 * repeats to the implementation; `JSON.parse` keeps the last one silently. For documents a person reviews (a
 * policy pins measurements), a repeat means the reader and the verifier may see different values, so callers
 * refuse it. This is a scanner over text `JSON.parse` has already accepted: it tracks only the nesting and the
 * names, without recursion, so depth cannot exhaust the stack.
 */

interface Frame {
  readonly path: string;
  /** Names seen so far (objects); undefined for arrays. */
  readonly names: Set<string> | undefined;
  /** Current member name (objects) or element index (arrays). */
  key: string;
  index: number;
  expectName: boolean;
}

const WS = ' \t\n\r';

/** `.name` for identifier-like names, `["…"]` otherwise, as in `$.snp.measurements[0]`. */
function memberPath(path: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

/**
 * The path (`$.snp.measurements`) of the first repeated member name in `text`, or undefined when every object
 * has distinct names. Names are compared after unescaping (`"a"` and `"\u0061"` are the same name). `text`
 * must be valid JSON (parse it with `JSON.parse` first).
 *
 * @example
 * ```ts
 * duplicateJsonKey('{"snp":{"measurements":["aa"],"measurements":["bb"]}}'); // '$.snp.measurements'
 * ```
 */
export function duplicateJsonKey(text: string): string | undefined {
  const stack: Frame[] = [];
  const valuePath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '$';
    return top.names ? memberPath(top.path, top.key) : `${top.path}[${top.index}]`;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WS.includes(c) || c === ':') {
      i++;
    } else if (c === '{' || c === '[') {
      stack.push({ path: valuePath(), names: c === '{' ? new Set() : undefined, key: '', index: 0, expectName: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.names) top.expectName = true;
      else if (top) top.index++;
      i++;
    } else if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      const top = stack[stack.length - 1];
      if (top?.names && top.expectName) {
        const name = JSON.parse(text.slice(start, i)) as string;
        top.key = name;
        top.expectName = false;
        if (top.names.has(name)) return memberPath(top.path, name);
        top.names.add(name);
      }
    } else {
      // number, true, false, null
      while (i < text.length && !WS.includes(text[i]!) && !',]}'.includes(text[i]!)) i++;
    }
  }
  return undefined;
}
