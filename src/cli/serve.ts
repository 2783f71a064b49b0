import type { Logger } from '../core/log.ts';
import type { Overseer } from '../index.ts';
import { startDataNode, startGateway } from '../server/index.ts';
import { shownNatsServers } from '../server/nats-servers.ts';
import type { NatsBus } from '../transport/nats-bus.ts';
import { loadServerConfig } from './config.ts';

/** What a started server exposes (for tests and the CLI). */
export interface RunningServer {
  url: string;
  log: Logger;
  /** The runtime (absent on a gateway, which holds no state). */
  ov: Overseer | undefined;
  /** The NATS connection, when the server uses NATS. */
  bus: NatsBus | undefined;
  close(): Promise<void>;
}

/**
 * `overseer serve`: the runtime with its HTTP API and, with `--nats`, its command API over NATS (a data node);
 * with `--gateway --nats`, an HTTP API without state that forwards every command over NATS. On first start of a
 * data node without a secret, one is written to `<dataDir>/jwt-secret` and an admin token is printed, so a
 * newcomer can try the API at once. The nodes themselves are `overseer/server`'s; this only loads the config
 * and prints.
 */
export async function serve(
  flags: Record<string, unknown>,
  print: (line: string) => void,
): Promise<RunningServer> {
  const { gateway, ...config } = loadServerConfig(flags);
  if (gateway) {
    const node = await startGateway({ ...config, nats: config.nats ?? '' });
    print(
      `Overseer gateway listening on ${node.url}, forwarding every command over NATS (${shownNatsServers(node.config.nats ?? '')})`,
    );
    print(`API reference: ${node.url}/docs`);
    return { url: node.url, log: node.log, ov: undefined, bus: node.bus, close: () => node.close() };
  }
  const node = await startDataNode(config);
  const { dataDir, durability, nats } = node.config;
  print(`Overseer listening on ${node.url} (data in ${dataDir}, durability ${durability})`);
  if (nats)
    print(`Commands over NATS on overseer.cmd.<workspace>.<service>.<operation> (${shownNatsServers(nats)})`);
  print(`API reference: ${node.url}/docs`);
  if (node.jwtSecret.source === 'file')
    print(
      `JWT secret: ${node.jwtSecret.path}. A token: npx overseer token create --data-dir ${dataDir} --workspace default --scopes admin --ttl 1h`,
    );
  if (node.adminToken !== undefined) {
    print(
      `A JWT secret was created in ${dataDir}/jwt-secret. An admin token for 24 h (workspace 'default'; add ?workspaceId= for others):`,
    );
    print(node.adminToken);
  }
  return { url: node.url, log: node.log, ov: node.overseer, bus: node.bus, close: () => node.close() };
}
