/** The runtime settings services read (validated from the config by the composition root). */
export interface RuntimeSettings {
  heartbeatTimeoutMs: number;
  sessionIdleTimeoutMs: number;
  sessionMaxAgeMs: number;
}
