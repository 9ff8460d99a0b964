// A deterministic text embedding for the semantic-cache tests: hashed word unigrams, word
// bigrams and character trigrams after light normalisation (lower case, accents and punctuation
// removed, "n't" -> "not", a few stop words dropped), L2-normalised. Not a good model: a
// repeatable one, so that the measured hit and false-hit rates mean the same thing on every run.

export const EMBEDDING_DIMS = 512;

const STOP_WORDS = new Set(['a', 'an', 'the', 'please', 'can', 'could', 'would', 'you', 'i', 'me', 'my', 'is', 'are', 'to', 'of', 'for', 'in', 'on', 'it', 'this', 'that', 'and', 'with', 'do', 'does']);

const WEIGHTS = { word: 1, bigram: 0.5, trigram: 0.25 } as const;

export function embedText(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMS).fill(0);
  const add = (kind: keyof typeof WEIGHTS, feature: string) => {
    const hash = fnv1a(`${kind}:${feature}`);
    const bucket = hash % EMBEDDING_DIMS;
    vector[bucket] = (vector[bucket] ?? 0) + (hash & 0x80000000 ? -1 : 1) * WEIGHTS[kind];
  };
  const words = normalise(text);
  words.forEach((word, i) => {
    add('word', word);
    if (i > 0) add('bigram', `${words[i - 1]} ${word}`);
    const padded = `#${word}#`;
    for (let j = 0; j + 3 <= padded.length; j++) add('trigram', padded.slice(j, j + 3));
  });
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

export function normalise(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/n['’]t\b/g, ' not')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '' && !STOP_WORDS.has(word));
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
