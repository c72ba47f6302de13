/** Starts the real composed app (express + CloudAdapter + teams-ai) on 127.0.0.1:0 for end-to-end tests. */
import { type AppStore, type ChaosApp, type ComposeOverrides, composeApp } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

export const APPROVER_A = {
  id: '29:approver-a',
  name: 'Ada Approver',
  aadObjectId: '11111111-1111-4111-8111-111111111111',
};
export const APPROVER_B = {
  id: '29:approver-b',
  name: 'Bo Approver',
  aadObjectId: '22222222-2222-4222-8222-222222222222',
};
export const DEVELOPER = {
  id: '29:developer',
  name: 'Dev Eloper',
  aadObjectId: '33333333-3333-4333-8333-333333333333',
};
export const OUTSIDER = { id: '29:outsider', name: 'Out Sider', aadObjectId: '44444444-4444-4444-8444-444444444444' };

export interface TestBot {
  app: ChaosApp;
  url: string;
  close(): Promise<void>;
}

export async function startTestBot(
  store: AppStore,
  env: Record<string, string> = {},
  overrides: ComposeOverrides = {},
): Promise<TestBot> {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    TEAMS_APPROVERS: `${APPROVER_A.aadObjectId},${APPROVER_B.aadObjectId}`,
    ...env,
  });
  let counter = 0;
  const app = await composeApp(config, {
    store,
    startWorker: false,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics: createMetrics({ collectDefaults: false }),
    newIdSuffix: () => `t${++counter}`,
    ...overrides,
  });
  const listening = await app.listen();
  return {
    app,
    url: listening.url,
    close: () => app.close(),
  };
}
