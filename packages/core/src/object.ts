/**
 * A copy of `o` without its `undefined` members, so optional values can be spread into option objects typed
 * with `exactOptionalPropertyTypes` (and serialized without `"key": undefined` noise).
 */
export function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
