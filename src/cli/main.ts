/** The `overseer` command. */
import { createOverseer } from '../index.ts';

const USAGE = `Usage: overseer <command>

Commands:
  start     Run the runtime on the embedded default (data in $OVERSEER_DATA_DIR or ./.overseer) until interrupted.
  help      Show this help.

Environment:
  OVERSEER_DATA_DIR     data directory (default .overseer)
  OVERSEER_DURABILITY   'flush' (default) or 'commit'
  OVERSEER_LOG_LEVEL    pino level (default info)
`;

async function start(): Promise<void> {
  const dataDir = process.env.OVERSEER_DATA_DIR ?? '.overseer';
  const ov = await createOverseer({
    dataDir,
    logLevel: (process.env.OVERSEER_LOG_LEVEL as 'info' | undefined) ?? 'info',
    ...(process.env.OVERSEER_DURABILITY ? { durability: process.env.OVERSEER_DURABILITY as 'flush' } : {}),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ov.runtime.log.info({ signal }, 'overseer stopping');
    ov.close().then(
      () => process.exit(0),
      (err: unknown) => {
        ov.runtime.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  ov.runtime.log.info({ dataDir, durability: ov.runtime.config.durability }, 'overseer ready');
  // Keep the process alive until a signal arrives (the runtime's own timers are unref'd).
  setInterval(() => undefined, 1 << 30);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'help'] = argv;
  switch (command) {
    case 'start':
      await start();
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`overseer: unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`overseer: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
