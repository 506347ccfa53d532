/**
 * The signer identity in a Fulcio-issued code-signing certificate. Fulcio ("Certificate Issuing Overview" and
 * "OID information", arc 1.3.6.1.4.1.57264.1) puts the OIDC token's claims in extensions: the V2 ones (.8 and
 * up) are DER UTF8Strings; the deprecated V1 ones (.1–.6) hold the raw string bytes with no DER tag. The subject
 * is the SubjectAltName (RFC 5280 §4.2.1.6): a URI for workflow identities, an e-mail for people.
 */
import { ParseError, fromUtf8 } from '@ccinfer/core';
import { Tag, children, decodeDer, readString } from '@ccinfer/core/internal';
import { parseCertificate, stringExtension, type Certificate } from '../x509/index.js';

const ARC = '1.3.6.1.4.1.57264.1';
export const FULCIO_OID = {
  issuerV1: `${ARC}.1`,
  githubWorkflowRepository: `${ARC}.5`,
  githubWorkflowRef: `${ARC}.6`,
  issuer: `${ARC}.8`,
  buildSignerUri: `${ARC}.9`,
  sourceRepositoryUri: `${ARC}.12`,
  sourceRepositoryDigest: `${ARC}.13`,
  sourceRepositoryRef: `${ARC}.14`,
} as const;
const SUBJECT_ALT_NAME = '2.5.29.17';

export interface SignerIdentity {
  /** OIDC issuer of the token Fulcio certified. */
  issuer: string | undefined;
  /** SAN URI or e-mail. */
  subject: string | undefined;
  /** Source repository URI (V2) or `https://github.com/` + the V1 workflow repository. */
  repositoryUri: string | undefined;
  /** Source ref the workflow ran on, e.g. `refs/tags/v1.2.3`. */
  ref: string | undefined;
  /** Build signer URI: the workflow file at its ref. */
  workflow: string | undefined;
  /** Source commit. */
  commit: string | undefined;
}

const malformed = (message: string, cause?: unknown): never => {
  throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', message, cause === undefined ? undefined : { cause });
};

function v2(cert: Certificate, oid: string, name: string): string | undefined {
  return stringExtension(cert, oid, Tag.Utf8String, name, (cause) => malformed(`Fulcio extension ${name} is not a DER UTF8String`, cause));
}

function v1(cert: Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  return ext ? fromUtf8(ext.value, 'ERR_PROVENANCE_BUNDLE_INVALID') : undefined;
}

function subjectAltName(cert: Certificate): string | undefined {
  const ext = cert.extension(SUBJECT_ALT_NAME);
  if (!ext) return undefined;
  try {
    for (const gn of children(decodeDer(ext.value))) {
      // GeneralName [6] uniformResourceIdentifier / [1] rfc822Name, both IMPLICIT IA5String.
      if (gn.tag === 0x86 || gn.tag === 0x81) return readString({ ...gn, tag: Tag.Ia5String }, 'subjectAltName');
    }
    return undefined;
  } catch (cause) {
    return malformed('signing certificate subjectAltName is malformed', cause);
  }
}

/** Reads the signer identity from the DER signing certificate. */
export function signerIdentity(certificateDer: Uint8Array): SignerIdentity {
  let cert: Certificate;
  try {
    cert = parseCertificate(certificateDer);
  } catch (cause) {
    return malformed('the signing certificate does not parse', cause);
  }
  const legacyRepo = v1(cert, FULCIO_OID.githubWorkflowRepository);
  return {
    issuer: v2(cert, FULCIO_OID.issuer, 'issuer') ?? v1(cert, FULCIO_OID.issuerV1),
    subject: subjectAltName(cert),
    repositoryUri: v2(cert, FULCIO_OID.sourceRepositoryUri, 'sourceRepositoryURI') ?? (legacyRepo ? `https://github.com/${legacyRepo}` : undefined),
    ref: v2(cert, FULCIO_OID.sourceRepositoryRef, 'sourceRepositoryRef') ?? v1(cert, FULCIO_OID.githubWorkflowRef),
    workflow: v2(cert, FULCIO_OID.buildSignerUri, 'buildSignerURI'),
    commit: v2(cert, FULCIO_OID.sourceRepositoryDigest, 'sourceRepositoryDigest'),
  };
}
