/** What the key broker's route handlers share: its configuration, session table, audit log and clock. */
import type { Cache, Fetcher, BindingScheme } from '@ccinfer/core';
import type { Policy, TrustAnchors } from '@ccinfer/verifier';
import type { AdminAuthenticator } from './admin.js';
import type { AuditLog } from './audit.js';
import type { ResourcePolicies } from './policy.js';
import type { SessionTable } from './sessions.js';
import type { AttestationTokens } from './tokens.js';
import type { ResourceStore } from './store.js';

export interface BrokerContext {
  store: ResourceStore;
  sessions: SessionTable;
  audit: AuditLog;
  adminAuth: AdminAuthenticator;
  now: () => Date;
  /** Appraisal options common to /attest and every release. */
  appraisal: { anchors: TrustAnchors | undefined; fetcher: Fetcher | undefined; cache: Cache | undefined; binding: BindingScheme };
  attestationPolicy: Policy;
  snpCrl: Uint8Array | undefined;
  /** The resource policies now in force (replaceable through the admin interface). */
  policies: ResourcePolicies;
  maxBodyBytes: number;
  /** Attestation tokens issued at /attest and accepted as `Authorization: Bearer` on resource requests. */
  tokens: AttestationTokens;
}

/** Per request: what the audit entry of a refusal names. */
export interface RequestRecord {
  session?: string;
  digest?: string;
  tee?: string;
}
