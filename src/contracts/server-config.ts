import { z } from 'zod';
import { RuntimeConfigSchema } from './config.ts';

/** `overseer.config.yaml`: the runtime's config plus the HTTP server's. Environment variables override it. */
export const ServerConfigSchema = RuntimeConfigSchema.extend({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** HS256 secret of API tokens; when unset, one is generated into `<dataDir>/jwt-secret` (mode 0600). */
  jwtSecret: z.string().min(32, 'jwtSecret must be at least 32 characters').optional(),
  /** NATS server URL(s), comma-separated: commands are served (or, on a gateway, forwarded) over NATS. */
  nats: z.string().min(1).optional(),
  /** Run as an HTTP gateway: no local state, every command forwarded over NATS to the data node. */
  gateway: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(false),
  rateLimit: z
    .object({
      /** Requests per second per token; 0 turns the limit off. */
      perSecond: z.coerce.number().min(0).default(1000),
      /** Requests a token may send at once; twice `perSecond` unless given. */
      burst: z.coerce.number().min(1).optional(),
    })
    .prefault({})
    .transform(({ perSecond, burst }) => ({ perSecond, burst: burst ?? Math.max(1, 2 * perSecond) })),
})
  .strict()
  .meta({ id: 'ServerConfig' });
export type ServerConfig = z.output<typeof ServerConfigSchema>;
/** What a server config may be given as (defaults and coercions not yet applied). */
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;
