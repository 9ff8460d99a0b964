import { sendReply, type ReplyContext } from './fake-upstream-replies.js';
import { randomHex } from './random-ids.js';

/** The model-list endpoints: `<prefix>/models`, `<prefix>/models/<id>`, and Ollama's `/api/tags` and `/api/version`. */
export async function sendModels(pathname: string, models: readonly string[], ctx: ReplyContext): Promise<void> {
  const { format } = ctx.server;
  const created = 1_735_689_600;
  if (pathname === '/api/version') {
    await sendReply({ kind: 'json', body: { version: '0.12.6' } }, ctx);
    return;
  }
  if (pathname === '/api/tags') {
    const body = {
      models: models.map((id) => ({
        name: id,
        model: id,
        modified_at: '2025-11-01T10:00:00.000000000Z',
        size: 18_556_700_761,
        digest: randomHex(64),
        details: { parent_model: '', format: 'gguf', family: 'qwen3moe', families: ['qwen3moe'], parameter_size: '30.5B', quantization_level: 'Q4_K_M' },
      })),
    };
    await sendReply({ kind: 'json', body }, ctx);
    return;
  }
  const single = /\/models\/([^/]+)\/?$/.exec(pathname);
  const openaiModel = (id: string): Record<string, unknown> => ({
    id,
    object: 'model',
    created,
    owned_by: format === 'cerebras' ? 'Cerebras' : 'system',
  });
  const anthropicModel = (id: string): Record<string, unknown> => ({
    type: 'model',
    id,
    display_name: displayName(id),
    created_at: '2025-09-29T00:00:00Z',
  });
  const toModel = format === 'anthropic' ? anthropicModel : openaiModel;
  if (single?.[1] !== undefined) {
    const id = decodeURIComponent(single[1]);
    if (!models.includes(id)) {
      await sendReply({ kind: 'error', status: 404 }, { ...ctx, requestModel: id });
      return;
    }
    await sendReply({ kind: 'json', body: toModel(id) }, ctx);
    return;
  }
  const body =
    format === 'anthropic'
      ? { data: models.map(anthropicModel), has_more: false, first_id: models[0] ?? null, last_id: models[models.length - 1] ?? null }
      : { object: 'list', data: models.map(openaiModel) };
  await sendReply({ kind: 'json', body }, ctx);
}

function displayName(id: string): string {
  const words = id.replace(/-\d{8}$/, '').split('-');
  const out: string[] = [];
  for (const word of words) {
    const last = out[out.length - 1];
    if (/^\d+$/.test(word) && last !== undefined && /^\d+(\.\d+)?$/.test(last)) out[out.length - 1] = `${last}.${word}`;
    else out.push(word.charAt(0).toUpperCase() + word.slice(1));
  }
  return out.join(' ');
}
