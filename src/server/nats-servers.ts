import { splitCredentials } from '../transport/split-credentials.ts';

/** The server URLs of a comma-separated `nats` setting (`nats://a:4222, nats://b:4222`). */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The NATS URLs of a `nats` setting without their credentials, comma-separated, for printing. */
export function shownNatsServers(url: string): string {
  return splitCredentials(natsServers(url)).servers.join(',');
}
