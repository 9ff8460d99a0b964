// Library mode: start a proxy inside your own tests, answer from canned responses, and talk
// to it with the official Anthropic SDK. Run: npx tsx examples/library-mode.ts
import Anthropic from '@anthropic-ai/sdk';
import { createProxy } from '@jleechan/llm-proxy-server';

const proxy = await createProxy({
  backend: 'canned',
  backends: {
    canned: {
      type: 'scripted',
      responses: [
        { toolUse: { name: 'Bash', input: { command: 'echo hi' } } },
        { text: 'The command printed hi.' },
      ],
    },
  },
});
await proxy.listen(0);

const client = new Anthropic({ baseURL: proxy.url, apiKey: 'test' });
const first = await client.messages.create({
  model: 'claude-opus-4-8',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'run echo hi' }],
});
console.log(first.stop_reason, first.content[0]);

// The same request again: a scripted backend is not cached, so this is the next canned answer.
const second = await client.messages
  .stream({ model: 'claude-opus-4-8', max_tokens: 1024, messages: [{ role: 'user', content: 'run echo hi' }] })
  .finalMessage();
console.log(second.content[0]);

await proxy.close();
