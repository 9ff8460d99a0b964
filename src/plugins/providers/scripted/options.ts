import { z } from 'zod';
import type { ErrorType, StreamEvent } from '../../../anthropic/types.js';
import { isRecord } from '../../../config/is-record.js';
import { backendOptions, type BackendEntryOf } from '../../../plugin-kit/backend-schema.js';

export type ScriptedResponse =
  | { text: string; stopReason?: 'end_turn' | 'max_tokens' }
  | { toolUse: { name: string; input: Record<string, unknown>; id?: string }; text?: string }
  | { events: StreamEvent[] }
  | { error: { status: number; type: ErrorType; message: string } };

/** `type: "scripted"`: canned answers, used in order; the last one repeats. */
export const scriptedOptions = backendOptions({
  responses: z.array(z.custom<ScriptedResponse>(isRecord, 'must be an object')).min(1, 'must list at least one response'),
});

export type ScriptedOptions = z.output<typeof scriptedOptions>;

export interface ScriptedBackendConfig extends BackendEntryOf<typeof scriptedOptions> {
  type: 'scripted';
}

declare module '../../../config/types.js' {
  interface BackendTypes {
    scripted: ScriptedBackendConfig;
  }
}
