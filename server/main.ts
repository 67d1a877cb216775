/** The server process: parse the environment, start, and stop cleanly on SIGTERM/SIGINT. */
import { parseEnv } from './env';
import { startServer } from './start';

async function main(): Promise<void> {
  const config = parseEnv();
  const running = await startServer(config);
  running.logger.info(
    `SEMS Dispense listening on ${running.url} (database: ${running.db.embedded ? `embedded, ${config.SEMS_DATA_DIR}` : 'PostgreSQL'})`,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.logger.info(`${signal}: finishing in-flight requests, then stopping`);
      running.close().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
