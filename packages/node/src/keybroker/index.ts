/**
 * `@ccinfer/node/keybroker`: a Key Broker Service speaking Trustee's KBS protocol 0.4.0, releasing each resource
 * only to evidence that ccinfer's own appraisal accepts under that resource's policy, with a hash-chained audit log.
 *
 * @example
 * ```ts
 * import { createKeyBroker, DirectoryResourceStore, parseResourcePolicies } from '@ccinfer/node/keybroker';
 * const broker = await createKeyBroker({ store: new DirectoryResourceStore('/srv/kbs'), policies: parseResourcePolicies(doc) });
 * await broker.listen(8080);
 * ```
 */
export { createKeyBroker, KBS_PROTOCOL_VERSION, KBS_SESSION_COOKIE, type KeyBroker, type KeyBrokerOptions } from './server.js';
export { parseResourcePolicies, policyFor, type ResourcePolicies, type ResourcePolicyEntry } from './policy.js';
export { DirectoryResourceStore, MemoryResourceStore, resourceId, resourceName, type ResourceId, type ResourceStore } from './store.js';
export { AuditLog, FileAuditSink, verifyAuditChain, type AuditEntry, type AuditSink } from './audit.js';
export { createAdminAuthenticator, DEFAULT_ADMIN_ACLS, type AdminAuthOptions, type AdminAuthenticator } from './admin.js';
export { kbsErrorBody, KBS_ERROR_PREFIX, KBS_PROBLEMS, type KbsProblem, type KbsErrorBody, type KeyBrokerErrorCode } from './errors.js';
