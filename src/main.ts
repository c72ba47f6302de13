/**
 * Server entry (`npm start`): validates the configuration, composes the app and listens. The embedded default needs
 * nothing else: PGlite under CHAOS_DATA_DIR, the offline negotiator, simulated metrics and dry-run rollback.
 */
import { composeApp, listenHost } from './app/compose.js';
import { ConfigError, loadConfig, redactConfig } from './config/index.js';
import { startTelemetry } from './observability/telemetry.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`chaos-negotiator: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  // OpenTelemetry must be set up before the instrumented libraries create their servers and clients.
  const telemetry = await startTelemetry(config.telemetry.connectionString);
  const app = await composeApp(config);
  const { logger } = app;
  logger.info({ config: redactConfig(config), telemetry: telemetry.enabled }, 'configuration');
  for (const warning of config.warnings) logger.warn({ warning }, warning);
  if (config.teams.auth.kind === 'none') {
    const ignored = config.server.host !== '127.0.0.1' ? ` (HOST=${config.server.host} ignored)` : '';
    logger.warn(
      { auth: 'none' },
      `Bot Framework authentication is OFF (no MicrosoftAppId): listening on 127.0.0.1 only${ignored}; set MicrosoftAppId to accept Teams traffic`,
    );
  } else {
    logger.info(
      { auth: config.teams.auth.kind, appType: config.teams.auth.appType },
      'Bot Framework authentication is on',
    );
  }

  const { teams, slack, groups } = config.approvers;
  if (teams.length === 0 && slack.length === 0 && Object.keys(groups).length === 0) {
    logger.warn(
      { mode: config.mode },
      config.mode === 'development'
        ? 'no approvers configured: in development anyone may approve or reject'
        : 'no approvers configured: nobody can approve or reject until TEAMS_APPROVERS / APPROVER_GROUPS are set',
    );
  }

  const { url } = await app.listen();
  logger.info(
    {
      url,
      host: listenHost(config),
      store: config.databaseUrl ? 'postgresql' : `pglite (${config.dataDir})`,
      negotiator: config.model.provider,
      metrics: config.metrics.provider,
      rollout: config.rollout.target,
    },
    `Chaos Negotiator listening on ${url} (Teams: ${url}/api/messages, health: ${url}/healthz)`,
  );
  // Also on stdout as plain text, for people reading a terminal rather than JSON logs.
  process.stdout.write(`Chaos Negotiator listening on ${url}  (Teams endpoint ${url}/api/messages)\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos-negotiator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
