/**
 * Fetching the AMD collateral of an SNP appraisal from AMD KDS (or a mirror at `kdsBase`), in one place (as
 * tdx/fetch.ts and nvidia/fetch.ts): the VCEK, the ASK / ARK `cert_chain` and the ARK-signed CRL, each read from
 * the cache first. KDS is untrusted for content: everything fetched is verified by the appraisal against the
 * pinned ARK. URL builders are in collateral.ts. Without a fetcher nothing is fetched and the item is missing.
 */
import { cachedFetch, type Cache, type Fetcher } from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';
import { KDS_BASE, certChainUrl, crlUrl, vcekUrl } from './collateral.js';
import { decodeTcb, type SigningKey, type SnpProductLine, type SnpReport } from './parse.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Where an SNP appraisal may fetch from, and at what time (cache freshness). */
export interface SnpCollateralSources {
  now: Date;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  signal?: AbortSignal | undefined;
  /** AMD KDS or a mirror with the same paths; default {@link KDS_BASE}. */
  kdsBase?: string | undefined;
}

function fetchOptions(sources: SnpCollateralSources) {
  return { ...definedOnly({ fetcher: sources.fetcher, cache: sources.cache, signal: sources.signal }), now: sources.now };
}

/** The VCEK (DER) of the chip and REPORTED_TCB of `report`; `ERR_SNP_LEAF_UNAVAILABLE` when it cannot be had. */
export function fetchVcek(product: SnpProductLine, report: SnpReport, sources: SnpCollateralSources): Promise<Uint8Array> {
  const url = vcekUrl(product, report.chipId, decodeTcb(report.reportedTcbRaw, product), sources.kdsBase ?? KDS_BASE);
  return cachedFetch(url, { ...fetchOptions(sources), missingCode: 'ERR_SNP_LEAF_UNAVAILABLE' });
}

/** The KDS `cert_chain` PEM (ASK or ASVK, then ARK) of the hierarchy of `kind`, cached a week. */
export function fetchCertChain(product: SnpProductLine, kind: SigningKey, sources: SnpCollateralSources): Promise<Uint8Array> {
  return cachedFetch(certChainUrl(product, kind, sources.kdsBase ?? KDS_BASE), { ...fetchOptions(sources), ttlMs: 7 * DAY, missingCode: 'ERR_SNP_CHAIN_UNAVAILABLE' });
}

/** The ARK-signed CRL (DER) of the hierarchy of `kind`, cached an hour. */
export function fetchCrl(product: SnpProductLine, kind: SigningKey, sources: SnpCollateralSources): Promise<Uint8Array> {
  return cachedFetch(crlUrl(product, kind, sources.kdsBase ?? KDS_BASE), { ...fetchOptions(sources), ttlMs: HOUR, missingCode: 'ERR_SNP_CRL_UNAVAILABLE' });
}
