import type { MessageParam, RequestContentBlock, TextBlock } from '../../../anthropic/types.js';

// Claude Code puts `role: "system"` messages inside `messages` (beta
// `mid-conversation-system-*`): the agent list, skills, reminders. A server without that beta
// refuses them or, through a chat template, fails on a system turn that is not the first. Each
// one becomes a `<system-reminder>` text block in a neighbouring user turn, where it was: Claude
// Code's system prompt tells the model that such blocks come from the harness, not the user, so
// it reads them as it would the system message. Moving them into `system` instead would lose
// their place in the conversation and change the head of the prompt whenever a new one appears,
// which defeats a local server's prefix cache; folding only ever changes the turn it lands in.

const reminder = (text: string): TextBlock => ({ type: 'text', text: `<system-reminder>\n${text}\n</system-reminder>` });

function textOf(message: MessageParam): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .filter((block): block is TextBlock => block.type === 'text')
    .map((block) => block.text)
    .join('\n\n');
}

/** A user turn with `blocks` at its end, or at its start after its tool results (which must lead). */
function withBlocks(message: MessageParam, blocks: TextBlock[], at: 'start' | 'end'): MessageParam {
  const content: RequestContentBlock[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
  if (at === 'end') return { ...message, content: [...content, ...blocks] };
  let lead = 0;
  while (lead < content.length && content[lead]!.type === 'tool_result') lead++;
  return { ...message, content: [...content.slice(0, lead), ...blocks, ...content.slice(lead)] };
}

/**
 * The messages without `role: "system"` ones, each folded into the user turn before it (when it
 * directly follows one) or else the next; one after the last user turn that an assistant turn
 * follows, or that ends the conversation, becomes a user turn of its own. Undefined when there is
 * none. The messages themselves are not changed: a turn that takes one is a copy.
 */
export function foldSystemMessages(messages: readonly MessageParam[]): MessageParam[] | undefined {
  const first = messages.findIndex((message) => message.role === 'system');
  if (first < 0) return undefined;
  const out = messages.slice(0, first);
  let pending: TextBlock[] = [];
  for (const message of messages.slice(first)) {
    if (message.role === 'system') {
      const text = textOf(message);
      if (!text) continue;
      const last = out.at(-1);
      if (last?.role === 'user' && pending.length === 0) out[out.length - 1] = withBlocks(last, [reminder(text)], 'end');
      else pending.push(reminder(text));
      continue;
    }
    if (pending.length === 0) {
      out.push(message);
    } else if (message.role === 'user') {
      out.push(withBlocks(message, pending, 'start'));
      pending = [];
    } else {
      out.push({ role: 'user', content: pending }, message);
      pending = [];
    }
  }
  if (pending.length > 0) out.push({ role: 'user', content: pending });
  return out;
}
