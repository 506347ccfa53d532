/**
 * `@ccinfer/core/internal`: building blocks the other ccinfer packages share (`@ccinfer/verifier`,
 * `@ccinfer/node`, `@ccinfer/browser`). **Not API**: names here may change or go in any release, without a
 * major version bump. Applications import from `@ccinfer/core` only.
 */
export { BoundedMap } from './bounded-map.js';
export { HOP_BY_HOP } from './session/bhttp.js';
