/** The @platformatic/kafka tagged-fields fix lives with the workers (src/kafka/client.ts); tests use the same. */
export { fixTaggedFields } from '../../src/kafka/client.js';
