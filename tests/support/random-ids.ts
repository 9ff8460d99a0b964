import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALNUM[byte % ALNUM.length];
  return out;
}

export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

export const newChatCompletionId = (): string => `chatcmpl-${randomAlnum(29)}`;
export const newToolCallId = (): string => `call_${randomAlnum(24)}`;
export const newMessageId = (): string => `msg_01${randomAlnum(22)}`;
export const newToolUseId = (): string => `toolu_01${randomAlnum(22)}`;
