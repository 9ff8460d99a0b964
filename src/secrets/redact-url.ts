/** A URL fit to show: no `user:password@`, query or fragment (tokens hide there too), no trailing slash. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return '[invalid URL]';
  }
}
