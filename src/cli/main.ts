/**
 * The `overseer` command. It imports only the flag parser up front; each command imports what it needs when it
 * runs, so `overseer --help` answers without loading the runtime.
 */
import { parseFlags } from './parse-flags.ts';

const USAGE = `Usage: overseer <command> [flags]

Commands:
  serve     Run the runtime with its HTTP API until interrupted (npm start).
            --host 127.0.0.1 --port 8080 --data-dir .overseer --durability flush|commit --config FILE
            --nats nats://127.0.0.1:4222   also serve every command over NATS (a data node)
            --gateway --nats URL           HTTP only, no local state: forward every command over NATS
  start     The same as serve.
  token create --workspace ID (--role viewer|operator|admin|runner|agent | --scopes a,b) --ttl 1h [--sub NAME]
            Print an API token (reads OVERSEER_JWT_SECRET or <dataDir>/jwt-secret; never opens the store).
            A role is an exact set of scopes (docs/http.md); --scopes adds to it.
  token create --workspace ID --worker WORKER_ID [--ttl 1h]
            Print a worker's own credential: it acts on that worker only (the agent role), lives at most
            24h (heartbeats renew it) and is revoked once the worker ends. No --role, --scopes or --sub.
  nats-config --workspace ID [--worker ID] | --data-node | --gateway [--user NAME] [--password PASS] [--entry]
            Print a nats-server authorization block fencing one NATS user: a workspace's clients
            (inboxPrefix _INBOX_<ID>), one worker of it (its own commands, replies and events only;
            inboxPrefix _INBOX_<ID>.<WORKER>), the data node, or a gateway. The password is generated unless
            given; --entry prints the user entry alone, to merge into an existing users list.
  workflow validate FILE
            Check an agent_workflow.yaml: exit 0, or 1 with FILE:line:col: message for every problem.
  help      Show this help.

Configuration: overseer.config.yaml in the working directory (or --config), then the environment:
  OVERSEER_HOST, OVERSEER_PORT, OVERSEER_DATA_DIR, OVERSEER_JWT_SECRET, OVERSEER_DURABILITY,
  OVERSEER_LOG_LEVEL, OVERSEER_RATE_LIMIT (requests/s per token, 0 = off),
  OVERSEER_RATE_BURST (default twice the rate), OVERSEER_NATS_URL,
  OVERSEER_GATEWAY (true|false), then flags.
`;

const out = (line: string) => process.stdout.write(`${line}\n`);

async function runServer(flags: Record<string, unknown>): Promise<void> {
  const { serve } = await import('./serve.ts');
  const server = await serve(flags, out);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'overseer stopping');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  server.log.info({ url: server.url }, 'overseer ready');
}

async function main(argv: string[]): Promise<void> {
  const { positional, flags } = parseFlags(argv);
  const [command = 'help', sub] = positional;
  // `--help` after any command shows the help, and never runs the command (`serve --help` must not start a server).
  if (flags['help'] !== undefined || positional.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'serve':
    case 'start':
      await runServer(flags);
      return;
    case 'token':
      if (sub !== 'create') break;
      out(await (await import('./token.ts')).tokenCreate(flags));
      return;
    case 'nats-config':
      process.exitCode = (await import('./nats-config.ts')).runNatsConfig(
        flags,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
      return;
    case 'workflow':
      process.exitCode = (await import('./workflow.ts')).runWorkflow(sub, positional.slice(2), out, (line) =>
        process.stderr.write(`${line}\n`),
      );
      return;
    case 'help':
      process.stdout.write(USAGE);
      return;
  }
  process.stderr.write(`overseer: unknown command '${[command, sub].filter(Boolean).join(' ')}'\n\n${USAGE}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`overseer: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
