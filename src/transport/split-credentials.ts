/**
 * Server URLs without their `user:password@` part, and those credentials (from the first URL that has them):
 * nats.js does not read credentials from a URL, and they must not reach logs or error details.
 */
export function splitCredentials(urls: string | string[]): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
} {
  let auth: string | undefined;
  const servers = (Array.isArray(urls) ? urls : [urls]).map((raw) => {
    const m = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^@/]*)@(.*)$/i.exec(raw);
    if (!m) return raw;
    const [, scheme, credentials, rest] = m as unknown as [string, string, string, string];
    auth ??= credentials;
    return `${scheme}${rest}`;
  });
  if (auth === undefined) return { servers };
  const i = auth.indexOf(':');
  // `nats://TOKEN@host` carries a token; `nats://user:pass@host` a user and password.
  if (i < 0) return { servers, token: decodeURIComponent(auth) };
  return { servers, user: decodeURIComponent(auth.slice(0, i)), pass: decodeURIComponent(auth.slice(i + 1)) };
}
