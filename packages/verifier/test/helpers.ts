// Moved to test-support/; kept so older imports keep working.
export { expectCode, expectCodeSync, flip } from '../../../test-support/helpers.js';
