export {
  SecureClient,
  ATTEST_PATH,
  OHTTP_PATH,
  PROBLEM_PREFIX,
  type SecureClientOptions,
  type SecureClientEvents,
  type Appraiser,
  type AttestedDocument,
  type ExportedEvidence,
  type ChatBody,
  type InferInit,
  type SseEvent,
} from './secure-client.js';
export { parseSse } from './sse.js';
export type { ChatMessage, ChatCompletionRequest, ChatCompletion, ChatCompletionChunk, CompletionUsage } from './chat.js';
export type { ClientErrorCode } from './errors.js';
