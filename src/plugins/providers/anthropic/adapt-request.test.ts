import { describe, expect, it } from 'vitest';
import type { MessageParam, MessagesRequest, Tool } from '../../../anthropic/types.js';
import { adaptBetas, adaptBody, type Stripped } from './adapt-request.js';
import { PRESETS } from './capabilities.js';
import { foldSystemMessages } from './system-messages.js';

const reminder = (text: string) => ({ type: 'text', text: `<system-reminder>\n${text}\n</system-reminder>` });
const toolUse = { type: 'tool_use' as const, id: 'toolu_1', name: 'Bash', input: {} };
const toolResult = { type: 'tool_result' as const, tool_use_id: 'toolu_1', content: 'ok' };

describe('foldSystemMessages', () => {
  it('folds each system message into the user turn it follows, or else the next, in order, and leaves the input alone', () => {
    const messages: MessageParam[] = [
      { role: 'system', content: 'leading' },
      { role: 'user', content: 'question' },
      { role: 'system', content: [{ type: 'text', text: 'after the user' }] },
      { role: 'assistant', content: [toolUse] },
      { role: 'system', content: 'between the tool call and its result' },
      { role: 'user', content: [toolResult] },
      { role: 'assistant', content: 'answer' },
      { role: 'system', content: 'last' },
    ];
    const before = structuredClone(messages);
    expect(foldSystemMessages(messages)).toEqual([
      { role: 'user', content: [reminder('leading'), { type: 'text', text: 'question' }, reminder('after the user')] },
      { role: 'assistant', content: [toolUse] },
      // Tool results lead the turn that answers a tool call.
      { role: 'user', content: [toolResult, reminder('between the tool call and its result')] },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: [reminder('last')] },
    ]);
    expect(messages).toEqual(before);
  });

  it('keeps a user turn between two assistant turns, drops empty system messages, and is undefined with none', () => {
    expect(
      foldSystemMessages([
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
        { role: 'system', content: 'note' },
        { role: 'system', content: '' },
        { role: 'assistant', content: 'b' },
      ]),
    ).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { role: 'user', content: [reminder('note')] },
      { role: 'assistant', content: 'b' },
    ]);
    expect(foldSystemMessages([{ role: 'user', content: 'q' }])).toBeUndefined();
  });
});

describe('adaptBody', () => {
  const tools = Array.from({ length: 24 }, (_, i) => ({ name: `t${i}`, input_schema: { type: 'object' } }));
  const request = (extra: Partial<MessagesRequest> = {}): MessagesRequest => ({
    model: 'm',
    max_tokens: 10,
    system: [{ type: 'text', text: 'billing' }, { type: 'text', text: 'prompt', cache_control: { type: 'ephemeral', scope: 'global' } }],
    tools,
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });

  it('copies only what changes: the tools array stays the same object without defer_loading', () => {
    const body = request();
    const stripped: Stripped = new Set();
    adaptBody(body, PRESETS.generic, stripped);
    expect(body.tools).toBe(tools);
    expect(body.system).toEqual([{ type: 'text', text: 'billing' }, { type: 'text', text: 'prompt', cache_control: { type: 'ephemeral' } }]);
    expect([...stripped]).toEqual(['cache_control.scope']);
  });

  it('copies the one deferred tool and shares the others', () => {
    const deferred: Tool[] = [...tools.slice(0, 23), { ...tools[23]!, defer_loading: true }];
    const body = request({ tools: deferred });
    adaptBody(body, PRESETS.generic, new Set());
    expect(body.tools).not.toBe(deferred);
    expect(body.tools!.slice(0, 23).every((tool, i) => tool === deferred[i])).toBe(true);
    expect(body.tools![23]).toEqual({ name: 't23', input_schema: { type: 'object' } });
    expect(deferred[23]!.defer_loading).toBe(true);
  });

  it('changes nothing for the real API', () => {
    const body = request({ tools: [{ ...tools[0]!, defer_loading: true }], context_management: { edits: [] }, output_config: { effort: 'high' } });
    const copy = structuredClone(body);
    const stripped: Stripped = new Set();
    adaptBody(body, PRESETS['anthropic-api'], stripped);
    expect(body).toEqual(copy);
    expect(stripped.size).toBe(0);
  });
});

describe('adaptBetas', () => {
  it('returns the client\'s own text when nothing goes, the rest joined when some do, nothing when none is left', () => {
    const header = 'claude-code-20250219, effort-2025-11-24';
    expect(adaptBetas(header, PRESETS['anthropic-api'], new Set())).toBe(header);
    const stripped: Stripped = new Set();
    expect(adaptBetas(header, PRESETS.vllm, stripped)).toBe('effort-2025-11-24');
    expect([...stripped]).toEqual(['beta:claude-code-20250219']);
    expect(adaptBetas(header, PRESETS.generic, new Set())).toBeUndefined();
  });

  it('lets a listed beta through, but never a feature\'s beta without the feature', () => {
    const caps = { ...PRESETS.generic, betas: ['context-1m-2025-08-07', 'context-management-2025-06-27'] };
    expect(adaptBetas('context-1m-2025-08-07,context-management-2025-06-27', caps, new Set())).toBe('context-1m-2025-08-07');
  });
});
