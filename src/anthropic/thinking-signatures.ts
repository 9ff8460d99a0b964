import { createHash } from 'node:crypto';
import type { Message, MessagesRequest, RequestContentBlock, StreamEvent } from './types.js';

// A `thinking` block's `signature` (and a `redacted_thinking` block's `data`) is valid only at
// the API that issued it: the real Anthropic API refuses another's with "Invalid signature".
// The proxy marks what an Anthropic-format backend signs with a short id of that upstream, so a
// conversation that moved between backends (a switch, a failover) can send each backend only
// the blocks it signed, unmarked. Unmarked signatures (a conversation from before the proxy)
// pass as they are.

const MARK = 'llmp1.';

/** A short id of the upstream that signs (its base URL): backends on the same API share it. */
export function signerOf(baseUrl: string): string {
  return createHash('sha256').update(baseUrl).digest('base64url').slice(0, 10);
}

const mark = (value: string, signer: string): string => (value && !value.startsWith(MARK) ? `${MARK}${signer}.${value}` : value);

/** Marks the signatures of a whole message (in place: it is the upstream's freshly parsed answer). */
export function markMessage(message: Message, signer: string): Message {
  for (const block of message.content) {
    if (block.type === 'thinking') block.signature = mark(block.signature, signer);
    else if (block.type === 'redacted_thinking') block.data = mark(block.data, signer);
  }
  return message;
}

/** Marks the signatures in a stream: the start of a block and the first signature delta of each. */
export function streamMarker(signer: string): (event: StreamEvent) => StreamEvent {
  const marked = new Set<number>();
  return (event) => {
    if (event.type === 'content_block_start') {
      const block = event.content_block;
      if (block.type === 'thinking' && block.signature) {
        block.signature = mark(block.signature, signer);
        marked.add(event.index);
      } else if (block.type === 'redacted_thinking') block.data = mark(block.data, signer);
    } else if (event.type === 'content_block_delta' && event.delta.type === 'signature_delta' && !marked.has(event.index)) {
      event.delta.signature = mark(event.delta.signature, signer);
      marked.add(event.index);
    }
    return event;
  };
}

type Verdict = { keep: true; block: RequestContentBlock } | { keep: false };

function verdict(block: RequestContentBlock, signer: string): Verdict {
  const field = block.type === 'thinking' ? 'signature' : block.type === 'redacted_thinking' ? 'data' : undefined;
  if (field === undefined) return { keep: true, block };
  const value = (block as unknown as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value === '') return { keep: false };
  if (!value.startsWith(MARK)) return { keep: true, block };
  const dot = value.indexOf('.', MARK.length);
  if (dot < 0 || value.slice(MARK.length, dot) !== signer) return { keep: false };
  return { keep: true, block: { ...block, [field]: value.slice(dot + 1) } };
}

/**
 * The request as the upstream `signer` can take it: its own thinking blocks unmarked, others'
 * (and unsigned ones, which another format produced) left out. When the last assistant turn
 * lost one with extended thinking on, thinking is turned off for this request: the API wants
 * that turn to start with a thinking block it signed. The same object when nothing changes.
 */
export function forSigner(request: MessagesRequest, signer: string): MessagesRequest {
  let messages: MessagesRequest['messages'] | undefined;
  let droppedInLast = false;
  request.messages.forEach((message, index) => {
    if (message.role !== 'assistant') return;
    droppedInLast = false;
    const content = message.content;
    if (typeof content === 'string' || !content.some((block) => block.type === 'thinking' || block.type === 'redacted_thinking')) return;
    const kept: RequestContentBlock[] = [];
    let changed = false;
    for (const block of content) {
      const result = verdict(block, signer);
      if (!result.keep) {
        changed = true;
        droppedInLast = true;
        continue;
      }
      if (result.block !== block) changed = true;
      kept.push(result.block);
    }
    if (!changed) return;
    messages ??= [...request.messages];
    messages[index] = { ...message, content: kept.length > 0 ? kept : [{ type: 'text', text: '(thinking from another model left out)' }] };
  });
  if (!messages) return request;
  const next: MessagesRequest = { ...request, messages };
  if (droppedInLast && next.thinking) delete next.thinking;
  return next;
}
