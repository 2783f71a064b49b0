// A test's answering side of NATS requests: what a data node's command service puts on the wire, on any subject.
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ErrorCodes } from '../../src/core/errors.ts';
import { decodePayload, encodeError, encodePayload, type Subscription } from '../../src/transport/bus.ts';
import type { NatsBus } from '../../src/transport/nats-bus.ts';
import {
  SERVICE_ERROR_CODE_HEADER,
  SERVICE_ERROR_HEADER,
  fromNatsHeaders,
} from '../../src/transport/nats-messages.ts';

/** Answers one request: header names arrive lower-cased, as the command service hands them to a command. */
export type Handler = (
  payload: unknown,
  headers: Readonly<Record<string, string>>,
  subject: string,
) => Promise<unknown>;

/**
 * Answers requests on `pattern` over the bus's connection (queue group `q`) as the command service does: the
 * answer's JSON, or the error envelope with `Nats-Service-Error-Code` (the HTTP status) and `Nats-Service-Error`.
 */
export function respond(bus: NatsBus, pattern: string, handler: Handler): Subscription {
  const sub = bus.connection.subscribe(pattern, {
    queue: 'q',
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      void (async () => {
        try {
          const answer = await handler(
            decodePayload(msg.string()),
            fromNatsHeaders(msg.headers),
            msg.subject,
          );
          msg.respond(Buffer.from(encodePayload(answer)));
        } catch (error) {
          const { code, text } = encodeError(error);
          const h = natsHeaders();
          h.set(SERVICE_ERROR_CODE_HEADER, String(ErrorCodes[code].status));
          h.set(SERVICE_ERROR_HEADER, code);
          msg.respond(Buffer.from(text), { headers: h });
        }
      })();
    },
  });
  return { unsubscribe: () => sub.unsubscribe() };
}
