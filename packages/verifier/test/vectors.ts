// Moved to test-support/; kept so older imports keep working.
export * from '../../../test-support/vectors.js';
