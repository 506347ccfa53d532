// Moved to test-support/; kept so older imports keep working.
export { vectorsDir, vectorSets, readBytes, readJson, readText, deviceSets } from '../../../test-support/vectors.js';
