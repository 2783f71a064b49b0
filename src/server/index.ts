/**
 * A node as code (`overseer/server`): what `overseer serve` runs, for a program that starts its own.
 *
 * @example
 * ```ts
 * import { startDataNode } from 'overseer/server';
 * const node = await startDataNode({ dataDir: '.overseer', port: 0, nats: 'nats://127.0.0.1:4222' });
 * const ws = node.overseer.workspace('acme'); // library calls in the same process
 * await node.close();
 * ```
 */
export { startDataNode } from './data-node.ts';
export type { DataNode, DataNodeOptions } from './data-node.ts';
export { startGateway } from './gateway.ts';
export type { Gateway, GatewayOptions } from './gateway.ts';
export { runtimeSampler } from './runtime-sampler.ts';
export type { JwtSecretSource } from './jwt-secret.ts';
export type { ServerConfig, ServerConfigInput } from '../contracts/server-config.ts';
