/** Error codes of the SecureClient (stable public API). */
export type ClientErrorCode =
  | 'ERR_SESSION_REJECTED' // VerificationError: the appraisal document is not ok — nothing was sent
  | 'ERR_SESSION_UNREACHABLE' // TransportError: no answer from the pod (refused, DNS, timeout, 5xx/429) or the connection broke
  | 'ERR_SESSION_NOT_A_POD' // TransportError: an answer that is not a ccinfer gateway's (4xx, not application/cbor, oversized)
  | 'ERR_SESSION_KEY_CONFIG_MISMATCH' // TransportError: the pod refused a freshly attested key, or the key it attests (no resend)
  | 'ERR_SESSION_NOT_RETRIED' // TransportError: key-config-mismatch for a request not marked safe to repeat (re-attested, not resent)
  | 'ERR_SESSION_GATEWAY_HTTP' // TransportError: the gateway refused the encapsulated request
  | 'ERR_SESSION_TIMEOUT' // TransportError: the gateway's answer did not begin within requestTimeoutMs
  | 'ERR_SESSION_RESPONSE_TYPE' // SessionError: a 200 that is not message/ohttp-chunked-res
  | 'ERR_SESSION_UPSTREAM_STATUS' // TransportError: infer() got a non-2xx inner response
  | 'ERR_SESSION_JSON' // SessionError: infer() got a body that is not JSON
  | 'ERR_SESSION_COMPLETION_SHAPE' // SessionError: infer() got JSON that is not an object with a `choices` array
  | 'ERR_SESSION_OPTIONS'; // ConfigError
