/**
 * A small, strict, namespace-aware XML 1.0 parser and the Canonical XML 1.1 serializer (without comments)
 * that the enveloped XML-DSig on NVIDIA RIMs needs.
 *
 * Why not xmldsigjs + @xmldom/xmldom: together they add ~130 KB gzip to the browser client, whose whole budget
 * is 100 KB (docs/design-notes.md "Budgets"). RIMs are machine-written SWID tags of one fixed shape, so a parser that accepts
 * exactly well-formed, namespace-well-formed XML without a DTD is enough, and refusing everything else (DTDs,
 * entities beyond the five predefined ones, processing instructions, unbound prefixes, duplicate attributes)
 * removes the classic XML attack surface (XXE, entity expansion, signature wrapping through odd trees).
 *
 * Canonicalization follows W3C Canonical XML 1.1 (2008) §2: UTF-8 output, LF line ends, attribute values
 * normalised by the parser and re-escaped, empty elements as start/end tag pairs, namespace declarations
 * rendered only when they differ from the nearest output ancestor's (and on the apex of a document subset,
 * every in-scope namespace), namespace nodes sorted by prefix before attributes sorted by (namespace URI,
 * local name), comments and whitespace outside the document element dropped. The xml:* attribute
 * inheritance of §2.4 only applies when an ancestor is outside the node set; the only subsets signed here are
 * "document minus the Signature element" and "SignedInfo", whose ancestors carry no xml:* attributes — the
 * parser rejects xml:* attributes outside that shape so that the shortcut is safe.
 */
import { ParseError, type ErrorCode } from '@ccinfer/core';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export interface XmlAttr {
  prefix: string;
  local: string;
  /** Namespace URI; '' for unprefixed attributes (which are in no namespace). */
  ns: string;
  value: string;
}

export interface XmlElement {
  kind: 'element';
  prefix: string;
  local: string;
  ns: string;
  attrs: XmlAttr[];
  /** Declarations made on this element, prefix '' = default namespace (uri '' = undeclared). */
  decls: Map<string, string>;
  /** All bindings in scope at this element (ancestors' included). */
  scope: Map<string, string>;
  children: XmlNode[];
  parent: XmlElement | undefined;
}

export interface XmlText {
  kind: 'text';
  text: string;
}

export type XmlNode = XmlElement | XmlText;

export interface XmlLimits {
  maxBytes?: number;
  maxDepth?: number;
}

const NAME = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*/;

/** Parses a complete document and returns its document element. */
export function parseXml(input: string, code: ErrorCode, limits: XmlLimits = {}): XmlElement {
  const maxBytes = limits.maxBytes ?? 4 * 1024 * 1024;
  const maxDepth = limits.maxDepth ?? 64;
  if (input.length > maxBytes) throw new ParseError(code, `XML document larger than ${maxBytes} characters`);
  // XML 1.0 §2.11: every CR LF and lone CR becomes LF before parsing.
  const s = input.replace(/\r\n?/g, '\n');
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(code, `XML: ${msg} at character ${i}`, { offset: i });
  };
  // XML 1.0 §2.2 Char: no C0 controls other than TAB / LF / CR, no lone surrogates, no U+FFFE/U+FFFF.
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s)) fail('forbidden character');
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) fail('lone surrogate');

  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\t')) i++;
  };
  const name = (): string => {
    const m = NAME.exec(s.slice(i, i + 256));
    if (!m) fail('expected a name');
    let n = m![0];
    i += n.length;
    if (s[i] === ':') {
      const m2 = NAME.exec(s.slice(i + 1, i + 257));
      if (!m2) fail('expected a local name after ":"');
      n += ':' + m2![0];
      i += 1 + m2![0].length;
    }
    return n;
  };
  const misc = (allowDecl: boolean): void => {
    for (;;) {
      skipWs();
      if (s.startsWith('<!--', i)) comment();
      else if (allowDecl && i === 0 && s.startsWith('<?xml', i)) {
        const end = s.indexOf('?>', i);
        if (end < 0) fail('unterminated XML declaration');
        const decl = s.slice(i, end + 2);
        if (!/^<\?xml\s+version\s*=\s*["']1\.[0-9]+["'](\s+encoding\s*=\s*["'](UTF-8|utf-8)["'])?(\s+standalone\s*=\s*["'](yes|no)["'])?\s*\?>$/.test(decl)) {
          fail('unsupported XML declaration');
        }
        i = end + 2;
      } else if (s.startsWith('<?', i)) fail('processing instructions are not accepted');
      else if (s.startsWith('<!', i)) fail('DTDs are not accepted');
      else return;
      allowDecl = false;
    }
  };
  const comment = (): void => {
    const end = s.indexOf('-->', i + 4);
    if (end < 0) fail('unterminated comment');
    if (s.slice(i + 4, end).includes('--')) fail('"--" inside a comment');
    i = end + 3;
  };
  const reference = (): string => {
    // At '&'. Only the five predefined entities and character references exist without a DTD.
    const end = s.indexOf(';', i);
    if (end < 0 || end - i > 12) fail('malformed reference');
    const ref = s.slice(i + 1, end);
    i = end + 1;
    switch (ref) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    let cp = NaN;
    if (/^#x[0-9A-Fa-f]+$/.test(ref)) cp = parseInt(ref.slice(2), 16);
    else if (/^#[0-9]+$/.test(ref)) cp = parseInt(ref.slice(1), 10);
    else fail(`unknown entity &${ref};`);
    const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) fail('character reference to a forbidden character');
    return String.fromCodePoint(cp);
  };
  const attrValue = (): string => {
    const q = s[i];
    if (q !== '"' && q !== "'") fail('expected a quoted attribute value');
    i++;
    let v = '';
    for (;;) {
      if (i >= s.length) fail('unterminated attribute value');
      const c = s[i]!;
      if (c === q) {
        i++;
        return v;
      }
      if (c === '<') fail('"<" in an attribute value');
      if (c === '&') v += reference();
      else {
        // XML 1.0 §3.3.3: literal white space in an attribute value becomes a space (CDATA-type attributes).
        v += c === '\n' || c === '\t' ? ' ' : c;
        i++;
      }
    }
  };

  const element = (parent: XmlElement | undefined, depth: number): XmlElement => {
    if (depth > maxDepth) fail('elements nested too deeply');
    i++; // '<'
    const qname = name();
    const raw: [string, string][] = [];
    for (;;) {
      const before = i;
      skipWs();
      if (s[i] === '>' || s.startsWith('/>', i)) break;
      if (i === before) fail('expected white space before an attribute');
      const an = name();
      skipWs();
      if (s[i] !== '=') fail('expected "="');
      i++;
      skipWs();
      raw.push([an, attrValue()]);
    }
    const selfClosing = s[i] === '/';
    i += selfClosing ? 2 : 1;

    const decls = new Map<string, string>();
    const plain: [string, string][] = [];
    for (const [n, v] of raw) {
      if (n === 'xmlns' || n.startsWith('xmlns:')) {
        const p = n === 'xmlns' ? '' : n.slice(6);
        if (decls.has(p)) fail(`namespace ${p || '(default)'} declared twice`);
        if (p === 'xmlns' || (p === 'xml' && v !== XML_NS) || (p !== 'xml' && (v === XML_NS || v === XMLNS_NS))) fail('reserved namespace misuse');
        if (p !== '' && v === '') fail('prefix undeclaration is XML 1.1 only');
        decls.set(p, v);
      } else plain.push([n, v]);
    }
    const scope = new Map(parent?.scope ?? []);
    for (const [p, v] of decls) {
      if (p === '' && v === '') scope.delete('');
      else scope.set(p, v);
    }
    const resolve = (q: string, isAttr: boolean): [string, string, string] => {
      const c = q.indexOf(':');
      if (c < 0) return ['', q, isAttr ? '' : scope.get('') ?? ''];
      const p = q.slice(0, c);
      const uri = p === 'xml' ? XML_NS : scope.get(p);
      if (uri === undefined) fail(`unbound prefix ${p}`);
      return [p, q.slice(c + 1), uri!];
    };
    const [prefix, local, ns] = resolve(qname, false);
    const attrs: XmlAttr[] = [];
    const seen = new Set<string>();
    for (const [n, v] of plain) {
      const [ap, al, ans] = resolve(n, true);
      // See the module comment: xml:* inheritance is not implemented, so refuse xml:* attributes.
      if (ans === XML_NS) fail('xml:* attributes are not accepted');
      const key = `${ans}\u0000${al}`;
      if (seen.has(key)) fail(`duplicate attribute ${n}`);
      seen.add(key);
      attrs.push({ prefix: ap, local: al, ns: ans, value: v });
    }
    const el: XmlElement = { kind: 'element', prefix, local, ns, attrs, decls, scope, children: [], parent };
    if (selfClosing) return el;

    let text = '';
    const flush = (): void => {
      if (text) el.children.push({ kind: 'text', text });
      text = '';
    };
    for (;;) {
      if (i >= s.length) fail(`unterminated element ${qname}`);
      const c = s[i]!;
      if (c === '<') {
        if (s.startsWith('</', i)) {
          i += 2;
          const end = name();
          if (end !== qname) fail(`end tag ${end} does not match ${qname}`);
          skipWs();
          if (s[i] !== '>') fail('expected ">"');
          i++;
          flush();
          return el;
        }
        if (s.startsWith('<!--', i)) {
          comment(); // C14N "without comments": dropped, adjacent text stays separate but serializes the same
          continue;
        }
        if (s.startsWith('<![CDATA[', i)) {
          const end = s.indexOf(']]>', i);
          if (end < 0) fail('unterminated CDATA section');
          text += s.slice(i + 9, end);
          i = end + 3;
          continue;
        }
        if (s.startsWith('<?', i) || s.startsWith('<!', i)) fail('processing instructions and declarations are not accepted');
        flush();
        el.children.push(element(el, depth + 1));
      } else if (c === '&') text += reference();
      else {
        if (c === '>' && s.startsWith(']]>', i - 2)) fail('"]]>" in character data');
        text += c;
        i++;
      }
    }
  };

  if (s.charCodeAt(0) === 0xfeff) i = 1;
  misc(true);
  if (s[i] !== '<') fail('expected the document element');
  const root = element(undefined, 0);
  misc(false);
  if (i !== s.length) fail('content after the document element');
  return root;
}

// ---------------------------------------------------------------------------------------------------------
// Canonical XML 1.1 (without comments)

function escText(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escAttr(t: string): string {
  return t
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Canonical form of the subtree rooted at `apex` (the apex is the document element for a whole document, or
 * e.g. SignedInfo for a subset), leaving out every element for which `omit` returns true (the enveloped
 * signature transform omits the Signature element and its descendants).
 */
export function canonicalize(apex: XmlElement, omit?: (el: XmlElement) => boolean): string {
  const out: string[] = [];
  const walk = (el: XmlElement, rendered: Map<string, string>): void => {
    const mine = new Map(rendered);
    const nsOut: [string, string][] = [];
    for (const [p, uri] of el.scope) {
      if (rendered.get(p) !== uri) {
        nsOut.push([p, uri]);
        mine.set(p, uri);
      }
    }
    // An element without a default namespace under an output ancestor that had one: render xmlns="".
    if (!el.scope.has('') && (rendered.get('') ?? '') !== '') {
      nsOut.push(['', '']);
      mine.delete('');
    }
    nsOut.sort((a, b) => cmp(a[0], b[0]));
    const qn = el.prefix ? `${el.prefix}:${el.local}` : el.local;
    let tag = `<${qn}`;
    for (const [p, uri] of nsOut) tag += `${p ? ` xmlns:${p}` : ' xmlns'}="${escAttr(uri)}"`;
    const attrs = [...el.attrs].sort((a, b) => cmp(a.ns, b.ns) || cmp(a.local, b.local));
    for (const a of attrs) tag += ` ${a.prefix ? `${a.prefix}:${a.local}` : a.local}="${escAttr(a.value)}"`;
    out.push(tag + '>');
    for (const c of el.children) {
      if (c.kind === 'text') out.push(escText(c.text));
      else if (!omit?.(c)) walk(c, mine);
    }
    out.push(`</${qn}>`);
  };
  walk(apex, new Map());
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------------
// Navigation helpers

export function childElements(el: XmlElement, ns?: string, local?: string): XmlElement[] {
  return el.children.filter(
    (c): c is XmlElement => c.kind === 'element' && (ns === undefined || c.ns === ns) && (local === undefined || c.local === local),
  );
}

export function attr(el: XmlElement, local: string, ns = ''): string | undefined {
  return el.attrs.find((a) => a.local === local && a.ns === ns)?.value;
}

/** Concatenated text of an element that must contain only text. */
export function textOf(el: XmlElement, code: ErrorCode): string {
  let t = '';
  for (const c of el.children) {
    if (c.kind !== 'text') throw new ParseError(code, `XML: element ${el.local} must contain only text`);
    t += c.text;
  }
  return t;
}

/** Every element in document order (the root included). */
export function* descendants(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) if (c.kind === 'element') yield* descendants(c);
}
