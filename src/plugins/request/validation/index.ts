import type { MessagesRequest } from '../../../anthropic/types.js';
import { invalidRequest } from '../../../errors.js';
import type { Plugin } from '../../../kernel/types.js';

const ROLES = new Set(['user', 'assistant', 'system']);
const TOOL_CHOICES = new Set(['auto', 'any', 'tool', 'none']);
const THINKING = new Set(['enabled', 'disabled', 'adaptive']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (field: string, problem: string) => invalidRequest(`${field}: ${problem}`);

/** Checks the fields the proxy relies on; unknown fields are allowed and kept. */
export function validateMessagesRequest(body: Record<string, unknown>, endpoint: 'messages' | 'count_tokens'): MessagesRequest {
  if (typeof body.model !== 'string' || body.model.trim() === '') throw fail('model', 'Field required (a model name string)');
  if (endpoint === 'messages') {
    const max = body.max_tokens;
    if (max === undefined) throw fail('max_tokens', 'Field required');
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw fail('max_tokens', 'must be a positive integer');
  }
  if (!Array.isArray(body.messages)) throw fail('messages', 'Field required (an array of messages)');
  if (body.messages.length === 0) throw fail('messages', 'at least one message is required');
  body.messages.forEach((message: unknown, i) => {
    const at = `messages.${i}`;
    if (!isObject(message)) throw fail(at, 'must be an object');
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw fail(`${at}.role`, `must be "user", "assistant" or "system" (got ${JSON.stringify(message.role)})`);
    }
    checkContent(message.content, `${at}.content`);
  });
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system)) throw fail('system', 'must be a string or an array of text blocks');
    body.system.forEach((block: unknown, i) => {
      if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string') {
        throw fail(`system.${i}`, 'must be a text block {"type":"text","text":...}');
      }
    });
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw fail('tools', 'must be an array');
    body.tools.forEach((tool: unknown, i) => {
      if (!isObject(tool) || typeof tool.name !== 'string') throw fail(`tools.${i}.name`, 'Field required');
      if (tool.type === undefined || tool.type === 'custom') {
        if (!isObject(tool.input_schema)) throw fail(`tools.${i}.input_schema`, 'Field required (a JSON schema object)');
      }
    });
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice;
    if (!isObject(choice) || typeof choice.type !== 'string' || !TOOL_CHOICES.has(choice.type)) {
      throw fail('tool_choice.type', 'must be one of auto, any, tool, none');
    }
    if (choice.type === 'tool' && typeof choice.name !== 'string') throw fail('tool_choice.name', 'Field required');
  }
  if (body.thinking !== undefined) {
    if (!isObject(body.thinking) || typeof body.thinking.type !== 'string' || !THINKING.has(body.thinking.type)) {
      throw fail('thinking.type', 'must be one of enabled, disabled, adaptive');
    }
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw fail('stream', 'must be a boolean');
  for (const field of ['temperature', 'top_p', 'top_k'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'number') throw fail(field, 'must be a number');
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || body.stop_sequences.some((s) => typeof s !== 'string')) {
      throw fail('stop_sequences', 'must be an array of strings');
    }
  }
  return body as MessagesRequest;
}

function checkContent(content: unknown, at: string): void {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw fail(at, 'must be a string or an array of content blocks');
  content.forEach((block: unknown, i) => {
    if (!isObject(block) || typeof block.type !== 'string') throw fail(`${at}.${i}.type`, 'Field required');
    if (block.type === 'text' && typeof block.text !== 'string') throw fail(`${at}.${i}.text`, 'must be a string');
    if (block.type === 'tool_use' && (typeof block.id !== 'string' || typeof block.name !== 'string')) {
      throw fail(`${at}.${i}`, 'tool_use blocks need an id and a name');
    }
    if (block.type === 'tool_result' && typeof block.tool_use_id !== 'string') {
      throw fail(`${at}.${i}.tool_use_id`, 'Field required');
    }
  });
}

/** Built-in: rejects malformed requests with Anthropic's 400 before anything else runs. */
export function requestValidation(): Plugin {
  return {
    name: 'request-validation',
    enforce: 'pre',
    apply({ hooks }) {
      hooks.request.tap({ name: 'request-validation', stage: -100 }, (ctx) => {
        ctx.body = validateMessagesRequest(ctx.body, ctx.endpoint);
      });
    },
  };
}
