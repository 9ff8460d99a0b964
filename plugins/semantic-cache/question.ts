import { createHash } from 'node:crypto';
import type { CacheKeys } from '../../src/plugin.js';

/** What the semantic tier compares for one request. */
export interface Question {
  /** What is embedded: the last user turn without Claude Code's `<system-reminder>` blocks. */
  readonly text: string;
  /** Hex SHA-256 of the exact key's scope, the reminders and the anchors: only answers of one scope are compared. */
  readonly scope: string;
}

const REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

/** The question a request asks, or `undefined` when the semantic tier must not answer it. */
export function questionOf(keys: CacheKeys, maxChars: number): Question | undefined {
  if (!keys.semanticEligible) return undefined;
  const reminders = keys.lastUserText.match(REMINDER) ?? [];
  const text = keys.lastUserText.replace(REMINDER, ' ').trim();
  if (text === '' || text.length > maxChars) return undefined;
  // The reminders carry the date and context (CLAUDE.md, open files): not the question, but part of what it is asked in.
  const scope = createHash('sha256').update(keys.scope()).update('\0').update(reminders.join('\0')).update('\0').update(anchorsOf(text)).digest('hex');
  return { text, scope };
}

/**
 * What must be identical for two questions to share an answer, whatever the embedding says:
 * negation, numbers, names that look like code (files, paths, identifiers, quoted text), and the
 * writing systems used. Embeddings rate "add a test" and "don't add a test", or "port 8080" and
 * "port 8081", as near neighbours; these are exactly the near misses a cache must not serve.
 */
export function anchorsOf(text: string): string {
  let negated = false;
  // In order of appearance: "move lib/ to src/" and "move src/ to lib/" are different requests.
  const entities: string[] = [];
  for (const quoted of text.matchAll(/`([^`]+)`|"([^"]+)"|“([^”]+)”/g)) entities.push(`"${quoted[1] ?? quoted[2] ?? quoted[3]}"`);
  for (const raw of text.split(/[\s,;!?()[\]{}<>"`“”]+/u)) {
    const token = raw.replace(/^['’]+|[.:'’]+$/gu, '');
    if (token === '') continue;
    const lower = token.toLowerCase();
    if (NEGATIONS.has(lower) || /n['’]t$/.test(lower)) negated = true;
    const number = NUMBER_WORDS.get(lower);
    if (number !== undefined) entities.push(number);
    else if (looksLikeCode(token)) entities.push(token);
  }
  const scripts = SCRIPTS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
  return JSON.stringify({ negated, entities, scripts });
}

/** Numbers, paths (`src/`), names with dots, underscores or `::` (`utils.py`, `max_len`), camelCase. */
function looksLikeCode(token: string): boolean {
  if (/\d|[/\\]/.test(token)) return true;
  if (/^(?:\p{L}\.)+\p{L}?$/u.test(token)) return false; // e.g, i.e
  return /[\p{L}\p{N}](?:[._#@$]|::)[\p{L}\p{N}]/u.test(token) || /\p{Ll}\p{Lu}/u.test(token);
}

const NEGATIONS = new Set([
  'not', 'no', 'never', 'none', 'nothing', 'nobody', 'nowhere', 'neither', 'nor', 'without', 'cannot', 'dont', 'doesnt', 'didnt', 'wont', 'cant', 'isnt', 'shouldnt',
  'ne', 'pas', 'jamais', 'sans', 'nicht', 'kein', 'keine', 'keinen', 'nie', 'ohne', 'nunca', 'sin', 'non', 'nao', 'não', 'senza', 'mai',
]);

const NUMBER_WORDS = new Map(
  ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'].map((word, i) => [word, String(i)] as const),
);

const SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Hiragana', /\p{Script=Hiragana}/u],
  ['Katakana', /\p{Script=Katakana}/u],
  ['Han', /\p{Script=Han}/u],
];
