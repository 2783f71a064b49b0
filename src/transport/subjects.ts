/** Every subject name of the system lives here (DESIGN §5). */
export const subjects = {
  /** `overseer.cmd.<workspace>.<service>.<operation>`, e.g. `overseer.cmd.acme.jobs.submit`. */
  command: (workspaceId: string, command: string): string => `overseer.cmd.${workspaceId}.${command}`,
  /** `overseer.evt.<workspace>.<kind>.<id>.<to>`. */
  event: (workspaceId: string, kind: string, id: string, to: string): string =>
    `overseer.evt.${workspaceId}.${kind}.${id}.${to}`,
  /** The workspace token of a command or event subject (`overseer.cmd.acme.jobs.submit` → `acme`; `''` if none). */
  workspaceOf: (subject: string): string => subject.split('.')[2] ?? '',
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
  /**
   * The reply prefix one worker's clients set (`_INBOX_<workspace>.<worker>`): inside its workspace's prefix, so the
   * data node answers it as it answers the workspace's, while the worker's NATS user may read this prefix only.
   */
  workerInbox: (workspaceId: string, workerId: string): string => `_INBOX_${workspaceId}.${workerId}`,
  /** Every event of one worker: `overseer.evt.<workspace>.worker.<worker>.>`. */
  workerEvents: (workspaceId: string, workerId: string): string =>
    subjects.event(workspaceId, 'worker', workerId, '>'),
  /** The NATS services framework's discovery and stats subjects. */
  services: '$SRV.>',
  /** Who serves a service: `$SRV.PING.<name>`. */
  servicePing: (name: string): string => `$SRV.PING.${name}`,
} as const;

/**
 * NATS-style subject matching (`*` matches one token, `>` the rest), compiled once per pattern (the in-process bus
 * keeps one per subscription, since every journal record is matched against every subscriber): no wildcard is an
 * equality, a trailing `>` a prefix test, anything else a walk of the subject's tokens that allocates nothing.
 */
export function subjectMatcher(pattern: string): (subject: string) => boolean {
  const tokens = pattern.split('.');
  const last = tokens.length - 1;
  const wildAt = tokens.findIndex((t) => t === '*' || t === '>');
  if (wildAt < 0) return (subject) => subject === pattern;
  if (wildAt === last && tokens[last] === '>') {
    if (last === 0) return () => true;
    const prefix = pattern.slice(0, -1);
    return (subject) => subject.startsWith(prefix);
  }
  return (subject) => matchTokens(tokens, subject);
}

function matchTokens(tokens: readonly string[], subject: string): boolean {
  let start = 0;
  for (const token of tokens) {
    // Past the end: the subject has no token left for this one.
    if (start > subject.length) return false;
    if (token === '>') return true;
    let end = subject.indexOf('.', start);
    if (end < 0) end = subject.length;
    if (token !== '*' && (end - start !== token.length || !subject.startsWith(token, start))) return false;
    start = end + 1;
  }
  return start === subject.length + 1;
}
