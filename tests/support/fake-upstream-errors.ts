import type { ErrorReply, UpstreamFormat } from './fake-upstream-reply-types.js';
import { randomAlnum } from './random-ids.js';

interface ErrorFields {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
}

function defaultErrorFields(format: UpstreamFormat, status: number, model: string | undefined): ErrorFields {
  if (format === 'cerebras') {
    const m = model ?? 'qwen-3-coder-480b';
    switch (status) {
      case 400: return { message: 'Invalid request: the request body could not be parsed.', type: 'invalid_request_error', param: 'body', code: 'wrong_api_format' };
      case 401: return { message: 'Wrong API Key', type: 'invalid_request_error', param: 'api_key', code: 'wrong_api_key' };
      case 402: return { message: 'Payment required: your plan does not include this model.', type: 'payment_required', param: 'plan', code: 'payment_required' };
      case 403: return { message: 'You do not have permission to access this resource.', type: 'permission_denied_error', param: '', code: 'permission_denied' };
      case 404: return { message: `Model ${m} does not exist or you do not have access to it.`, type: 'not_found_error', param: 'model', code: 'model_not_found' };
      case 422: return { message: 'Unprocessable entity: the request is invalid for this model.', type: 'invalid_request_error', param: 'messages', code: 'unprocessable_entity' };
      case 429: return { message: 'Requests per day limit exceeded - too many requests sent.', type: 'too_many_requests_error', param: 'quota', code: 'request_quota_exceeded' };
      case 503: return { message: "We're experiencing high traffic right now! Please try again soon.", type: 'too_many_requests_error', param: 'queue', code: 'queue_exceeded' };
      default: return { message: status >= 500 ? 'Internal server error' : `Request failed with status ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: '', code: status >= 500 ? 'internal_server_error' : 'bad_request' };
    }
  }
  if (format === 'openai') {
    const m = model ?? 'qwen3-coder:30b';
    switch (status) {
      case 400: return { message: 'Invalid request: the request body is not valid.', type: 'invalid_request_error', param: null, code: null };
      case 401: return { message: 'Incorrect API key provided: sk-fake***. You can find your API key in your account settings.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' };
      case 403: return { message: 'You are not allowed to access this resource.', type: 'invalid_request_error', param: null, code: 'unsupported_country_region_territory' };
      case 404: return { message: `The model \`${m}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
      case 429: return { message: `Rate limit reached for ${m} on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in 1s.`, type: 'requests', param: null, code: 'rate_limit_exceeded' };
      case 503: return { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: 'service_unavailable' };
      default: return { message: status >= 500 ? 'The server had an error while processing your request. Sorry about that!' : `Request failed with status ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null };
    }
  }
  const m = model ?? 'claude-sonnet-4-5-20250929';
  const types: Record<number, [string, string]> = {
    400: ['invalid_request_error', 'Invalid request.'],
    401: ['authentication_error', 'invalid x-api-key'],
    403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
    404: ['not_found_error', `model: ${m}`],
    413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    429: ['rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. Please reduce the prompt length or the maximum tokens requested, or try again later.'],
    500: ['api_error', 'Internal server error'],
    504: ['timeout_error', 'Request timed out'],
    529: ['overloaded_error', 'Overloaded'],
  };
  const [type, message] = types[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', `Request failed with status ${status}`];
  return { message, type, code: null, param: null };
}

export function errorBody(format: UpstreamFormat, reply: ErrorReply, model: string | undefined): unknown {
  const base = defaultErrorFields(format, reply.status, model);
  const fields: ErrorFields = {
    message: reply.message ?? base.message,
    type: reply.type ?? base.type,
    code: reply.code ?? base.code,
    param: base.param,
  };
  if (format === 'cerebras') return { message: fields.message, type: fields.type, param: fields.param ?? '', code: fields.code ?? '' };
  if (format === 'openai') return { error: { message: fields.message, type: fields.type, code: fields.code, param: null } };
  return { type: 'error', error: { type: fields.type, message: fields.message }, request_id: `req_${randomAlnum(24)}` };
}
