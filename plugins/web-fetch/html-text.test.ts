import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText } from './html-text.js';
import { PAGE_HTML } from '../../tests/support/page-server.js';

describe('htmlToText', () => {
  it('keeps the title, headings and link text, drops scripts, styles and comments, decodes entities', () => {
    const { title, text } = htmlToText(PAGE_HTML, 'http://127.0.0.1:1234/page');
    expect(title).toBe('The Test & Page');
    expect(text).toBe(
      ['[Other page](http://127.0.0.1:1234/other)', '', '# Hello from the local page', '', 'Caf&eacute; is not decoded, but café and <tags> are.'].join('\n'),
    );
    expect(text).not.toContain('secret');
    expect(text).not.toContain('color');
    expect(text).not.toContain('comment');
  });

  it('lists, line breaks, table cells and nested headings', () => {
    const { text } = htmlToText('<ul><li>one</li><li>two<br>lines</li></ul><table><tr><td>a</td><td>b</td></tr></table><h2>Sub <em>title</em></h2>');
    expect(text).toBe('- one\n- two\nlines\n\na b\n\n## Sub title');
  });

  it('a link without text or to a fragment, and an unclosed script', () => {
    expect(htmlToText('<a href="https://x.test/a?b=1&amp;c=2"></a>').text).toBe('https://x.test/a?b=1&c=2');
    expect(htmlToText('<a href="#top">Top</a> <a href="javascript:alert(1)">js</a>').text).toBe('Top js');
    expect(htmlToText('<p>kept</p><script>never shown').text).toBe('kept');
  });

  it('text that looks like markup once decoded stays text (decoded once)', () => {
    expect(htmlToText('<p>&amp;lt;b&amp;gt; and &lt;script&gt;x&lt;/script&gt;</p>').text).toBe('&lt;b&gt; and <script>x</script>');
  });

  it('numeric and named entities; invalid code points become U+FFFD', () => {
    expect(decodeEntities('&#x1F600; &#65; &hellip; &NBSP; &unknown; &#0; &#xD800;')).toBe('😀 A …   &unknown; \uFFFD \uFFFD');
  });
});
