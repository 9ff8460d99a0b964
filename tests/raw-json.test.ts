import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { oneByteText, scanJson } from '../src/json/raw-json.js';
import { derivedOnce, recogniseParsed } from '../src/json/raw-values.js';
import { jsonOf } from '../src/json/encoded.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import { jsonPieces } from '../src/upstream/http-client.js';
import type { MessagesRequest } from '../src/anthropic/types.js';

const fixture = readFileSync(new URL('../../shared/fixtures/claude-code/pong-turn1.json', import.meta.url));
const wanted = new Set(['tools', 'system', 'a"b']);

/** The bytes of each recognised member, parsed, equal the member JSON.parse gives. */
function spansMatchParse(text: string): void {
  const raw = Buffer.from(text);
  const scan = scanJson(raw, 128, wanted);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  for (const name of wanted) {
    const span = scan.members.get(name);
    if (parsed[name] === undefined) expect(span).toBeUndefined();
    else expect(JSON.parse(raw.subarray(span![0], span![1]).toString())).toEqual(parsed[name]);
  }
}

describe('scanJson', () => {
  it("finds the top-level members of Claude Code's request", () => {
    spansMatchParse(fixture.toString());
  });

  it('is not misled by brackets, quotes, commas and member names inside strings or nested objects', () => {
    spansMatchParse('{"x":"{\\"tools\\":[1],","nested":{"tools":[2],"system":"no"},"tools":[{"a":"],}"}] , "system" : "s\\\\" }');
    spansMatchParse('{ "system":[{"type":"text","text":"a, b } c"}],"tools":[],"k":{"l":[{"m":"\\""}]}}');
  });

  it('keeps the last of a repeated member, as JSON.parse does', () => {
    spansMatchParse('{"tools":[1],"tools":[{"name":"second"}]}');
  });

  it('bounds nesting and leaves malformed text to JSON.parse', () => {
    expect(scanJson(Buffer.from('['.repeat(129) + ']'.repeat(129)), 128).tooDeep).toBe(true);
    expect(scanJson(Buffer.from('{"a":' + '['.repeat(127) + ']'.repeat(127) + '}'), 128).tooDeep).toBe(false);
    expect(scanJson(Buffer.from('{"tools":"unterminated'), 128, wanted).members.size).toBe(0);
    expect(scanJson(Buffer.from('[{"tools":[1]}]'), 128, wanted).members.size).toBe(0);
  });
});

describe('oneByteText', () => {
  it('parses to the same value as the UTF-8 text, as a one-byte string', () => {
    for (const text of [fixture.toString(), '{"a":"— → ü 日本 😀","b":["é"]}', '{"plain":"ascii only"}']) {
      const raw = Buffer.from(text);
      const out = oneByteText(raw);
      expect(JSON.parse(out)).toEqual(JSON.parse(text));
      expect(Buffer.from(out).length).toBe(out.length);
    }
  });

  it('falls back to plain decoding for invalid UTF-8 and a backslash before a non-ASCII character', () => {
    const invalid = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3]), Buffer.from('"}')]);
    expect(oneByteText(invalid)).toBe(invalid.toString('utf8'));
    const escaped = Buffer.from('{"a":"\\é"}');
    expect(oneByteText(escaped)).toBe(escaped.toString('utf8'));
  });
});

describe('values recognised by their bytes', () => {
  const parse = (text: string): MessagesRequest => {
    const raw = Buffer.from(text);
    const body = JSON.parse(text) as MessagesRequest;
    const span = scanJson(raw, 128, wanted).members.get('tools')!;
    recogniseParsed(body.tools, raw.subarray(span[0], span[1]));
    return body;
  };

  it('derives once per distinct value seen again, and afresh for a value a plugin built', () => {
    const once = fixture.toString().replace(/"name": *"Bash"/, '"name": "Bash2"');
    let runs = 0;
    const count = (tools: object) => ({ tools, run: ++runs });
    // A value seen once is not kept (a one-off prompt costs only its bytes).
    derivedOnce(parse(once).tools!, 'test.count', count);
    derivedOnce(parse(once).tools!, 'test.count', count);
    derivedOnce(parse(once).tools!, 'test.count', count);
    expect(runs).toBe(2);
    runs = 0;
    parse(fixture.toString());
    const first = parse(fixture.toString());
    const second = parse(fixture.toString());
    const a = derivedOnce(first.tools!, 'test.count', count);
    expect(derivedOnce(second.tools!, 'test.count', count)).toBe(a);
    expect(runs).toBe(1);
    derivedOnce([...second.tools!], 'test.count', count);
    expect(runs).toBe(2);
    parse(fixture.toString().replace(/"name": *"Bash"/, '"name": "Shell"'));
    const other = parse(fixture.toString().replace(/"name": *"Bash"/, '"name": "Shell"'));
    expect(derivedOnce(other.tools!, 'test.count', count)).not.toBe(a);
  });

  it("sends the translated tools' recorded JSON, byte for byte what JSON.stringify writes", () => {
    const request = parse(fixture.toString());
    const chat = toOpenAIRequest(request, { model: 'm', stream: true });
    expect(jsonOf(chat.tools)).toBeDefined();
    expect(Object.isFrozen(chat.tools![0]!.function.parameters)).toBe(true);
    expect(Buffer.concat(jsonPieces(chat)).toString()).toBe(JSON.stringify(chat));
    const again = toOpenAIRequest(parse(fixture.toString()), { model: 'm', stream: true });
    expect(again.tools).toBe(chat.tools);
  });

  it('leaves a value it did not recognise (one a plugin built) as it is: translated afresh, nothing frozen', () => {
    const built = JSON.parse(fixture.toString()) as MessagesRequest;
    const chat = toOpenAIRequest(built, { model: 'm', stream: true });
    expect(jsonOf(chat.tools)).toBeUndefined();
    expect(Object.isFrozen(built.tools![0]!.input_schema)).toBe(false);
    expect(Object.isFrozen(built.messages[0])).toBe(false);
    expect(Buffer.concat(jsonPieces(chat)).toString()).toBe(JSON.stringify(chat));
  });
});

describe('a body whose tools and system prompt were seen before', () => {
  const read = async (text: string) => {
    const { Readable } = await import('node:stream');
    const { readJsonBody } = await import('../src/http/body.js');
    const req = Object.assign(Readable.from([Buffer.from(text)]), { headers: {} });
    return readJsonBody(req as unknown as IncomingMessage, 10_000_000);
  };

  it('gets the same value without parsing them again: its own arrays, the contents shared, all frozen', async () => {
    const text = fixture.toString().replace(/"max_tokens": *\d+/, '"max_tokens": 777');
    const first = await read(text);
    const second = await read(text);
    expect(second).toEqual(JSON.parse(text));
    expect(second.tools).not.toBe(first.tools);
    expect((second.tools as object[])[0]).toBe((first.tools as object[])[0]);
    expect(Object.isFrozen((second.tools as object[])[0])).toBe(true);
    expect(Object.isFrozen(second.tools)).toBe(true);
    expect(second.system).toEqual(JSON.parse(text).system);
    // The system prompt's translation is made once and sent as the same JSON.
    const options = { model: 'm', stream: true };
    const chat = toOpenAIRequest(second as unknown as MessagesRequest, options);
    expect(Buffer.concat(jsonPieces(chat)).toString()).toBe(JSON.stringify(toOpenAIRequest(JSON.parse(text) as MessagesRequest, options)));
    expect(toOpenAIRequest((await read(text)) as unknown as MessagesRequest, options).messages[0]).toBe(chat.messages[0]);
  });

  it("recognises a session's earlier turns one by one, and parses only the new one", async () => {
    const base = JSON.parse(fixture.toString()) as MessagesRequest;
    const turn = (n: number) => ({ role: n % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${n} — é` }] });
    const session = (turns: number) => JSON.stringify({ ...base, messages: Array.from({ length: turns }, (_, n) => turn(n)) });
    await read(session(2));
    const earlier = await read(session(3));
    const later = await read(session(4));
    expect(later).toEqual(JSON.parse(session(4)));
    const [a, b] = [earlier.messages as object[], later.messages as object[]];
    expect(b[0]).not.toBe(a[0]);
    expect(b[0]).toEqual(a[0]);
    expect((b[0] as { content: object }).content).toBe((a[0] as { content: object }).content);
    expect(Object.isFrozen(b[2])).toBe(true);
    expect(Object.isFrozen(b[3])).toBe(false);
    expect(Object.isFrozen(b)).toBe(false);
    // Whitespace, an empty list and a repeated member parse as JSON.parse says.
    for (const text of ['{"messages":[ ],"x":1}', '{"messages": [ {"role":"user","content":"a"} , {"role":"user","content":"a"} ] }', '{"messages":[{"a":1}],"messages":[{"role":"user","content":"b"}]}']) {
      expect(await read(text)).toEqual(JSON.parse(text));
      expect(await read(text)).toEqual(JSON.parse(text));
    }
  });

  it('jumps over values kept before and still bounds the nesting where they stand now', async () => {
    // 127 levels inside `tools` (128 with the body) is allowed; the same bytes as a turn, one level deeper, are not.
    const deep = '['.repeat(125) + '{"k":"' + 'x'.repeat(200) + '"}' + ']'.repeat(125);
    const asTools = `{"tools":[${deep}],"messages":[]}`;
    for (let i = 0; i < 3; i++) expect(await read(asTools)).toEqual(JSON.parse(asTools));
    await expect(read(`{"tools":[],"messages":[[${deep}]]}`)).rejects.toThrow('more than 128 levels deep');
    // Turns that begin alike over their first bytes and differ later are told apart.
    const common = 'c'.repeat(300);
    const turns = (...ends: string[]) => JSON.stringify({ messages: ends.map((end) => ({ role: 'user', content: common + end })) });
    for (const text of [turns('a', 'b'), turns('a', 'b'), turns('b', 'a'), turns('a', 'b', 'ab'), turns('b', 'a', 'ab')]) {
      expect(await read(text)).toEqual(JSON.parse(text));
    }
  });

  it('keeps every turn of a session longer than the room for values seen once, a few requests on', async () => {
    // 2.5 MB of turns the proxy has not seen (a long session after a restart): before, each body
    // pushed out its own first turns before the next request brought them again, so none was ever kept.
    const filler = 'The build is green and the change is ready for review. '.repeat(40);
    const turns = Array.from({ length: 1100 }, (_, n) => ({ role: n % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `Long session turn ${n}: ${filler}` }] }));
    const text = JSON.stringify({ model: 'm', max_tokens: 1, messages: turns });
    let last: object[] = [];
    for (let i = 0; i < 4; i++) last = (await read(text)).messages as object[];
    const again = (await read(text)).messages as object[];
    expect(again).toEqual(turns);
    // Kept: each request gets the turn's kept value, its contents shared and frozen.
    const content = (turn: object | undefined) => (turn as { content: object }).content;
    expect(again.filter((turn, n) => Object.isFrozen(turn) && content(turn) === content(last[n])).length).toBe(turns.length);
  });

  it('names a syntax error as it does for a body seen for the first time', async () => {
    const text = fixture.toString();
    await read(text);
    const broken = text.replace(/"max_tokens": *\d+/, '"max_tokens": 12x');
    let expected = '';
    try {
      JSON.parse(oneByteText(Buffer.from(broken)));
    } catch (error) {
      expected = (error as Error).message;
    }
    await expect(read(broken)).rejects.toThrow(`Request body is not valid JSON: ${expected}`);
  });
});
