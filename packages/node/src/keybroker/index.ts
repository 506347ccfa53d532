export { createKeyBroker, KBS_PROTOCOL_VERSION, KBS_SESSION_COOKIE, type KeyBroker, type KeyBrokerOptions } from './server.js';
export { parseResourcePolicies, policyFor, type ResourcePolicies, type ResourcePolicyEntry } from './policy.js';
export { DirectoryResourceStore, MemoryResourceStore, resourceId, resourceName, type ResourceId, type ResourceStore } from './store.js';
export { AuditLog, FileAuditSink, verifyAuditChain, type AuditEntry, type AuditSink } from './audit.js';
export { createAdminAuthenticator, DEFAULT_ADMIN_ACLS, type AdminAuthOptions, type AdminAuthenticator } from './admin.js';
export { kbsErrorBody, KBS_ERROR_PREFIX, KBS_PROBLEMS, type KbsProblem, type KbsErrorBody, type KeyBrokerErrorCode } from './errors.js';
