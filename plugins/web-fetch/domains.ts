/** The tool definition's `allowed_domains` / `blocked_domains`: a domain covers its subdomains; one with a path, that path and below. */
export interface DomainRules {
  allowed?: readonly string[];
  blocked?: readonly string[];
}

/** Why the URL is outside the rules, or undefined when it may be fetched. */
export function domainRefusal(url: URL, rules: DomainRules): string | undefined {
  const blocked = rules.blocked?.find((rule) => matches(url, rule));
  if (blocked !== undefined) return `${url.hostname} is in blocked_domains (${blocked})`;
  if (rules.allowed && rules.allowed.length > 0 && !rules.allowed.some((rule) => matches(url, rule))) {
    return `${url.hostname} is not in allowed_domains`;
  }
  return undefined;
}

function matches(url: URL, rule: string): boolean {
  const bare = rule.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = bare.indexOf('/');
  const domain = (slash < 0 ? bare : bare.slice(0, slash)).replace(/^\*\./, '').replace(/\.$/, '');
  const path = slash < 0 ? '' : bare.slice(slash).replace(/\/+$/, '');
  if (!domain) return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host !== domain && !host.endsWith(`.${domain}`)) return false;
  if (!path) return true;
  const pathname = url.pathname.toLowerCase();
  return pathname === path || pathname.startsWith(`${path}/`);
}
