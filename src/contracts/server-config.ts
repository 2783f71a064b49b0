import { z } from 'zod';
import { RuntimeConfigSchema } from './config.ts';

/** `overseer.config.yaml`: the runtime's config plus the HTTP server's. Environment variables override it. */
export const ServerConfigSchema = RuntimeConfigSchema.extend({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** HS256 secret of API tokens; when unset, one is generated into `<dataDir>/jwt-secret` (mode 0600). */
  jwtSecret: z.string().min(32, 'jwtSecret must be at least 32 characters').optional(),
  rateLimit: z
    .object({
      /** Requests per second per token; 0 turns the limit off. */
      perSecond: z.coerce.number().min(0).default(1000),
      burst: z.coerce.number().min(1).default(2000),
    })
    .prefault({}),
})
  .strict()
  .meta({ id: 'ServerConfig' });
export type ServerConfig = z.output<typeof ServerConfigSchema>;
