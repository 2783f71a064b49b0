import { subjects } from './subjects.ts';
import { SERVICE_NAME } from './nats-command-service.ts';

/** The subjects a NATS user may publish and subscribe to, in nats-server's `permissions` map. */
export interface NatsPermissions {
  publish: { allow: readonly string[] };
  subscribe: { allow: readonly string[] };
  /** nats-server's reply permission: publish once to the reply subject of each request received. */
  allowResponses?: { max: number; expires: string };
}

/** A workspace client: commands of its workspace, its workspace's events, replies in its own inboxes. */
export function workspacePermissions(workspaceId: string): NatsPermissions {
  return {
    publish: { allow: [subjects.workspaceCommands(workspaceId)] },
    subscribe: {
      allow: [subjects.workspaceEvents(workspaceId), `${subjects.workspaceInbox(workspaceId)}.>`],
    },
  };
}

/**
 * One worker's clients: publish only the subjects of `commandNames` in its workspace (a worker's own commands, one
 * subject each, no wildcard), subscribe only to its own inboxes and its own worker's events. Another worker of the
 * same workspace can thus read neither its replies nor its events. The data node still checks the credential of
 * every command; these permissions are defence in depth.
 */
export function workerPermissions(
  workspaceId: string,
  workerId: string,
  commandNames: readonly string[],
): NatsPermissions {
  return {
    publish: { allow: commandNames.map((name) => subjects.command(workspaceId, name)) },
    subscribe: {
      allow: [
        `${subjects.workerInbox(workspaceId, workerId)}.>`,
        subjects.workerEvents(workspaceId, workerId),
      ],
    },
  };
}

/**
 * The data node (`serve --nats`): serves every workspace's commands (queue group `q`) and the services
 * framework's `$SRV` subjects, publishes and reads events, pings `$SRV.PING.overseer` at start (replies in
 * `_INBOX`), and answers each request once on its reply subject, whatever inbox that is (`allow_responses`),
 * without being able to publish into any inbox on its own.
 */
export function dataNodePermissions(): NatsPermissions {
  return {
    publish: { allow: [subjects.allEvents, subjects.servicePing(SERVICE_NAME)] },
    subscribe: {
      allow: [subjects.allEndpoints, subjects.allEvents, subjects.services, `${subjects.sharedInbox}.>`],
    },
    allowResponses: { max: 1, expires: '2m' },
  };
}

/** A gateway (`serve --gateway --nats`): forwards commands of any workspace, reads its replies in `_INBOX`. */
export function gatewayPermissions(): NatsPermissions {
  return {
    publish: { allow: [subjects.allCommands] },
    subscribe: { allow: [`${subjects.sharedInbox}.>`] },
  };
}
