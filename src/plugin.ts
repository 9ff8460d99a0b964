// `@jleechan/llm-proxy-server/plugin`: what a plugin needs, and all that first-party plugins
// import from the core. A plugin imports this module (or its own folder), never deeper paths.

// Types: the kernel contract, the Anthropic wire types, the config.
export type * from './kernel/types.js';
export type * from './anthropic/types.js';
export type * from './config/types.js';
export type { Hooks, HookName, TapOnlyHooks } from './kernel/hooks.js';
export type { Logger, LogLevel } from './logger.js';

// Errors.
export { ProxyError, PluginError, ConfigError } from './errors.js';
export type { ErrorCode, ErrorCodePolicy, PluginErrorCodes, ProxyErrorCode } from './errors.js';

// Options: backend entry schemas (zod), and the check of a plugin's own options against its schema.
export { backendOptions, headersOption, httpUrlOption, positiveInt, requireUrlOrTunnel, says, secretOption } from './plugin-kit/backend-schema.js';
export type { BackendEntryOf } from './plugin-kit/backend-schema.js';
export { tcpPort } from './config/schema.js';
export { validateBackendOptions } from './config/backend-options.js';
export { modelMappingOf, optionalNumber, optionalString, optionalStringRecord } from './plugin-kit/options.js';
export { booleanOption, parsePluginOptions, positiveNumberOption, requiredStringOption, sizeOption, stringOption } from './plugin-kit/plugin-options.js';
export { isRecord } from './config/is-record.js';

// Talking to an upstream: the HTTP client, its stream readers and its error mapper.
export { UpstreamClient, encodeJson, EncodedJson, type UpstreamClientOptions, type UpstreamRequest, type UpstreamResponse } from './upstream/http-client.js';
export { readNDJSON, readSSE, SSESplitter, type SSEEvent } from './upstream/sse-reader.js';
export { parseJSONEvent, parseJSONEvents } from './upstream/json-stream.js';
export { errorFromUpstream, parseRetryAfter, parseDuration } from './upstream/upstream-error.js';
export { bodyKind, unexpectedBody, type BodyKind } from './plugin-kit/unexpected-body.js';
export { redactUrl } from './secrets/redact-url.js';
export { secretValuesIn, urlCredentials } from './secrets/collect.js';

// Rate limits: a response's limit headers as one QuotaReport (`ctx.quota`, read by the rate-limit advisor).
export { parseRateLimitHeaders, reportQuota } from './upstream/rate-limit-headers.js';

// A wait as a person reads it (`9 h 10 min`), for messages.
export { formatWait } from './plugin-kit/format-wait.js';
export { isSuperseded } from './plugin-kit/attempts.js';
export { isClientFault, isTransient } from './plugin-kit/failure-kind.js';
export { withInvoke } from './plugin-kit/with-invoke.js';
export { OPERATION_CHANNEL, traced, type TracedOperation } from './plugin-kit/traced-operation.js';

// Models: mapping the model a client asks for to an upstream one.
export { createModelResolver, globToRegExp, isClaudeModel, mappedModel, modelIds } from './plugin-kit/model-mapping.js';

// Anthropic <-> OpenAI translation, and Anthropic stream helpers.
export { toOpenAIRequest, type ToOpenAIRequestOptions } from './openai/request.js';
export { fromOpenAIResponse, parseToolArguments, toAnthropicUsage, stopReason } from './openai/response.js';
export { OpenAIStreamTranslator, translateOpenAISSE, translateOpenAIStream, type StreamTranslatorOptions, type TranslateOptions } from './openai/stream.js';
export type * from './openai/types.js';
export { MessageAccumulator, collectMessage } from './anthropic/accumulate.js';
export { messageToEvents } from './anthropic/replay.js';
export { encodeEvent } from './anthropic/sse.js';
export { estimateInputTokens } from './anthropic/estimate-tokens.js';

// Providers to build on: an OpenAI-compatible backend with hooks for a provider's dialect.
export { OpenAIBackend, createOpenAIBackend, openAIBaseUrl, type OpenAIBackendOptions } from './plugins/providers/openai/index.js';
export { openaiOptions, type OpenAIOptions } from './plugins/providers/openai/options.js';

// Cache tiers: the coordinator's api, and the stored answer's codec.
export { registerCacheTier, type CacheApi, type CacheTier } from './plugins/cache/tier.js';
export { decodeAnswer, encodeAnswer, type CachedAnswer } from './plugins/cache/answer.js';
export type { CacheKeys } from './plugins/cache/key.js';

// Health of a plugin's own dependency (Redis, an embedder), for /health and `status`.
export { DependencyHealth, type DependencyState } from './plugin-kit/dependency-health.js';

// zod, the version the config checks use: schemas for a plugin's backend types and options.
export { z } from 'zod';
