/**
 * Small validators for the policy document (docs/policy.md). Each records every bad field path in `errs`
 * instead of stopping at the first, so `parsePolicy` can report all of them at once. Absent fields return
 * undefined: "not checked", never "anything goes" for security switches (their defaults live with the
 * section that uses them).
 */
export type FieldErrors = string[];

/**
 * One vocabulary for collateral that may be unobtainable (docs/policy.md "Unavailable collateral"), used by
 * `snp.revocation` (the ARK-signed CRL) and `gpu.ocsp` (OCSP for the device and RIM chains): `require` — it
 * must be had and checked, else the pod is refused; `allow-unavailable` — what can be had is checked, and when
 * none can be had the check is skipped with a warning; `skip` — not looked for, the check skipped with a warning.
 */
export const COLLATERAL_MODES = ['require', 'allow-unavailable', 'skip'] as const;
export type CollateralMode = (typeof COLLATERAL_MODES)[number];

export function object(v: unknown, path: string, errs: FieldErrors, keys: readonly string[]): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    errs.push(`${path}: must be an object`);
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (keys.includes(k)) continue;
    const near = nearest(k, keys);
    errs.push(`${path}.${k}: unknown field${near ? ` (did you mean "${near}"?)` : ''}`);
  }
  return v as Record<string, unknown>;
}

/** The known key a misspelt one most likely meant: case-insensitive edit distance at most 1 + length/4. */
function nearest(key: string, keys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 2 + Math.floor(key.length / 4); // one more than the largest distance accepted
  for (const k of keys) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

export function bool(v: unknown, path: string, errs: FieldErrors): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  errs.push(`${path}: must be true or false`);
  return undefined;
}

export function int(v: unknown, path: string, errs: FieldErrors, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  errs.push(`${path}: must be an integer in ${min}..${max}`);
  return undefined;
}

export function oneOf<T extends string>(v: unknown, path: string, errs: FieldErrors, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  errs.push(`${path}: must be one of ${allowed.join(', ')}`);
  return undefined;
}

function list<T>(v: unknown, path: string, errs: FieldErrors, item: (x: unknown, p: string) => T | undefined): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) {
    errs.push(`${path}: must be a non-empty array (omit the field to leave it unchecked)`);
    return undefined;
  }
  const out: T[] = [];
  v.forEach((x, i) => {
    const r = item(x, `${path}[${i}]`);
    if (r !== undefined) out.push(r);
  });
  return out;
}

/** Lowercase hex strings of exactly `bytes` bytes. */
export function hexList(v: unknown, path: string, errs: FieldErrors, bytes: number): string[] | undefined {
  return list(v, path, errs, (x, p) => {
    if (typeof x === 'string' && /^[0-9a-fA-F]*$/.test(x) && x.length === bytes * 2) return x.toLowerCase();
    errs.push(`${p}: must be ${bytes} bytes of hex`);
    return undefined;
  });
}

export function enumList<T extends string>(v: unknown, path: string, errs: FieldErrors, allowed: readonly T[]): T[] | undefined {
  return list(v, path, errs, (x, p) => oneOf(x, p, errs, allowed));
}

export function intList(v: unknown, path: string, errs: FieldErrors, min: number, max: number): number[] | undefined {
  return list(v, path, errs, (x, p) => int(x, p, errs, min, max));
}

export function stringList(v: unknown, path: string, errs: FieldErrors): string[] | undefined {
  return list(v, path, errs, (x, p) => {
    if (typeof x === 'string' && x.length > 0) return x;
    errs.push(`${p}: must be a non-empty string`);
    return undefined;
  });
}

/** A dotted version such as `1.55.0`. */
export function version(v: unknown, path: string, errs: FieldErrors): [number, number, number] | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? v.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/) : null;
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  errs.push(`${path}: must be a version MAJOR.MINOR.BUILD`);
  return undefined;
}

/** A non-empty string. */
export function text(v: unknown, path: string, errs: FieldErrors): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v.length > 0) return v;
  errs.push(`${path}: must be a non-empty string`);
  return undefined;
}

/** A regular expression source, matched against the whole value (`^(?:…)$`) at appraisal. */
export function pattern(v: unknown, path: string, errs: FieldErrors): string | undefined {
  const s = text(v, path, errs);
  if (s === undefined) return undefined;
  try {
    new RegExp(s, 'u');
    return s;
  } catch {
    errs.push(`${path}: must be a valid regular expression`);
    return undefined;
  }
}

/** Tests `value` against a policy pattern, anchored at both ends so `org/repo` cannot match `evil-org/repo2`. */
export function matchesWhole(source: string, value: string): boolean {
  return new RegExp(`^(?:${source})$`, 'u').test(value);
}
