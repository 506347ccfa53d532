/**
 * Source of `ccinfer-provenance.min.js`: the single-file build for `<script type="module">` pages that check
 * signed provenance. It is `ccinfer.min.js` plus `@ccinfer/browser/provenance` in one file, so there is one copy
 * of @ccinfer/core and the verifier's errors keep their classes (two separately built files would each carry
 * their own `CcinferError`). The surface is exactly the two public entries, each listed by name there.
 */
export * from '../index.js';
export * from '../provenance.js';
