/**
 * Minimal OpenAI-compatible chat completion types for {@link SecureClient.infer}, our own (no runtime or type
 * dependency on the `openai` package). They name the fields of the Chat Completions API that a caller reads;
 * servers add more, kept as `unknown`. Values are checked only for the shape `infer()` relies on (an object
 * with a `choices` array): the attested pod's model server is trusted to be the model, not to be well-formed.
 */
import { SessionError } from '../errors.js';

/** One message of a conversation. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer' | (string & {});
  content: string | null | Array<{ type: string; [k: string]: unknown }>;
  name?: string;
  [k: string]: unknown;
}

/** A chat completion request (`POST /v1/chat/completions`); other parameters pass through unchanged. */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | undefined;
  max_tokens?: number | undefined;
  temperature?: number | undefined;
  [k: string]: unknown;
}

/** Token counts a server reports. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [k: string]: unknown;
}

/** What a completion and a streamed chunk share. */
interface CompletionEnvelope {
  id: string;
  created: number;
  model: string;
  [k: string]: unknown;
}

/** A non-streamed answer (`object: "chat.completion"`). */
export interface ChatCompletion extends CompletionEnvelope {
  object: 'chat.completion' | (string & {});
  choices: Array<{ index: number; message: ChatMessage; finish_reason: string | null; [k: string]: unknown }>;
  usage?: CompletionUsage | undefined;
}

/** One streamed event (`object: "chat.completion.chunk"`); `delta` holds the new part of the message. */
export interface ChatCompletionChunk extends CompletionEnvelope {
  object: 'chat.completion.chunk' | (string & {});
  choices: Array<{ index: number; delta: Partial<ChatMessage>; finish_reason: string | null; [k: string]: unknown }>;
  usage?: CompletionUsage | null | undefined;
}

/** The shape check behind the types: a JSON object with a `choices` array (else `ERR_SESSION_COMPLETION_SHAPE`). */
export function asCompletion<T extends ChatCompletion | ChatCompletionChunk>(value: unknown, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray((value as { choices?: unknown }).choices)) {
    throw new SessionError('ERR_SESSION_COMPLETION_SHAPE', `${what} is not an object with a "choices" array`);
  }
  return value as T;
}
