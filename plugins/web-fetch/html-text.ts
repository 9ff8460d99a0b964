// HTML to readable text for the model: no scripts or styles, headings marked, link targets kept,
// entities decoded. Not a browser: no layout, no JavaScript; enough for documentation and articles.

const DROPPED = /<(script|style|noscript|template|svg|math|iframe|object|canvas|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
/** A dropped element left open runs to the end of the page. */
const DROPPED_OPEN = /<(script|style|noscript|template)\b[^>]*>[\s\S]*$/i;
const BLOCK = /<\/?(?:p|div|section|article|main|header|footer|nav|aside|ul|ol|dl|dt|dd|table|thead|tbody|tfoot|tr|blockquote|pre|figure|figcaption|form|fieldset|details|summary|address|hr)\b[^>]*>/gi;

const NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', shy: '',
  copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–', minus: '−',
  lsquo: '‘', rsquo: '’', sbquo: '‚', ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«', raquo: '»',
  middot: '·', bull: '•', deg: '°', plusmn: '±', times: '×', divide: '÷', para: '¶', sect: '§',
  euro: '€', pound: '£', yen: '¥', cent: '¢', frac12: '½', frac14: '¼', frac34: '¾',
  larr: '←', rarr: '→', uarr: '↑', darr: '↓', harr: '↔', le: '≤', ge: '≥', ne: '≠', hearts: '♥',
};

export interface PageText {
  title: string | null;
  text: string;
}

/** The page's title and its text. `base` resolves relative links. */
export function htmlToText(html: string, base?: string): PageText {
  const titleMatch = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  const title = titleMatch ? collapse(decodeEntities(stripTags(titleMatch[1] ?? ''))) || null : null;
  let body = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '')
    .replace(DROPPED, ' ')
    .replace(DROPPED_OPEN, ' ');
  body = body
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_, level: string, inner: string) => `\n\n${'#'.repeat(Number(level))} ${oneLine(inner)}\n\n`)
    .replace(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi, (_, attributes: string, inner: string) => link(attributes, inner, base))
    .replace(/<br\b[^>]*>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/?(?:td|th)\b[^>]*>/gi, ' ')
    .replace(BLOCK, '\n');
  return { title, text: tidy(decodeEntities(stripTags(body))) };
}

/** `&amp;`, `&#39;`, `&#x1F600;` and the common named entities; an unknown name stays as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, (whole, name: string) => {
    if (name[0] !== '#') return NAMED[name] ?? NAMED[name.toLowerCase()] ?? whole;
    const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
    return String.fromCodePoint(code);
  });
}

function link(attributes: string, inner: string, base: string | undefined): string {
  const text = oneLine(inner);
  const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attributes);
  const target = href ? decodeEntities(href[1] ?? href[2] ?? href[3] ?? '').trim() : '';
  const url = absolute(target, base)?.replaceAll('&', '&amp;');
  if (!url) return text;
  if (!text || text === url) return ` ${url} `;
  return `[${text}](${url})`;
}

/** An http(s) URL, or undefined for fragments, `javascript:`, `mailto:` and the like. */
function absolute(href: string, base: string | undefined): string | undefined {
  if (!href || href.startsWith('#')) return undefined;
  try {
    const url = new URL(href, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function stripTags(html: string): string {
  return html.replace(/<\/?[a-zA-Z][^>]*>/g, '').replace(/<![^>]*>/g, '');
}

/** Tags out, spaces collapsed; entities are decoded once, with the whole text. */
function oneLine(html: string): string {
  return collapse(stripTags(html));
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Spaces collapsed within lines, at most one empty line between paragraphs. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\r\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
