/** Every subject name of the system lives here (DESIGN §5). */
export const subjects = {
  /** `overseer.cmd.<workspace>.<service>.<operation>`, e.g. `overseer.cmd.acme.jobs.submit`. */
  command: (workspaceId: string, command: string): string => `overseer.cmd.${workspaceId}.${command}`,
  /** `overseer.evt.<workspace>.<kind>.<id>.<to>`. */
  event: (workspaceId: string, kind: string, id: string, to: string): string =>
    `overseer.evt.${workspaceId}.${kind}.${id}.${to}`,
  /** Every event of every workspace. */
  allEvents: 'overseer.evt.>',
  /** Every event of one workspace. */
  workspaceEvents: (workspaceId: string): string => `overseer.evt.${workspaceId}.>`,
  /** Every command of one workspace. */
  workspaceCommands: (workspaceId: string): string => `overseer.cmd.${workspaceId}.>`,
  /** Every command of every workspace. */
  allCommands: 'overseer.cmd.>',
  /** The endpoint subject of one command: any workspace (`overseer.cmd.*.jobs.submit`). */
  commandEndpoint: (command: string): string => `overseer.cmd.*.${command}`,
  /** What a data node subscribes to: every endpoint subject. */
  allEndpoints: 'overseer.cmd.*.>',
  /** The reply prefix of unfenced clients and gateways (nats.js's default). */
  sharedInbox: '_INBOX',
  /** The reply prefix a workspace's fenced clients set (`inboxPrefix`): the only inboxes they may read. */
  workspaceInbox: (workspaceId: string): string => `_INBOX_${workspaceId}`,
  /** The NATS services framework's discovery and stats subjects. */
  services: '$SRV.>',
  /** Who serves a service: `$SRV.PING.<name>`. */
  servicePing: (name: string): string => `$SRV.PING.${name}`,
} as const;

/** NATS-style subject matching: `*` matches one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}
