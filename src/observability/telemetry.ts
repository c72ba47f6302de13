import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { redactSecrets } from './redact.js';

export const TRACER_NAME = 'chaos-negotiator';

/** The subset of @azure/monitor-opentelemetry this module uses; injectable so tests need no exporter. */
export interface AzureMonitorBinding {
  useAzureMonitor(options: {
    azureMonitorExporterOptions: { connectionString: string };
    enableLiveMetrics?: boolean;
  }): void;
  shutdownAzureMonitor(): Promise<void>;
}

export interface Telemetry {
  /** True when traces are exported to Application Insights. */
  enabled: boolean;
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  /** Loads @azure/monitor-opentelemetry; replaced in tests. */
  loadAzureMonitor?: () => Promise<AzureMonitorBinding>;
  /** Live Metrics streams to Azure continuously; off unless asked for. */
  enableLiveMetrics?: boolean;
}

const NO_TELEMETRY: Telemetry = { enabled: false, shutdown: async () => {} };

/**
 * Sends traces (including audit events) to Application Insights when a connection string is set; otherwise does
 * nothing at all, not even loading the Azure Monitor distro. Call once, early in start-up, before creating servers,
 * so the HTTP instrumentation can hook in.
 */
export async function startTelemetry(
  connectionString?: string,
  options: StartTelemetryOptions = {},
): Promise<Telemetry> {
  if (!connectionString || connectionString.trim() === '') return NO_TELEMETRY;
  const load = options.loadAzureMonitor ?? loadAzureMonitorDistro;
  const azureMonitor = await load();
  azureMonitor.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    enableLiveMetrics: options.enableLiveMetrics ?? false,
  });
  let stopped = false;
  return {
    enabled: true,
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await azureMonitor.shutdownAzureMonitor();
    },
  };
}

async function loadAzureMonitorDistro(): Promise<AzureMonitorBinding> {
  const distro = await import('@azure/monitor-opentelemetry');
  return { useAzureMonitor: distro.useAzureMonitor, shutdownAzureMonitor: distro.shutdownAzureMonitor };
}

export type AuditAttributes = Record<string, string | number | boolean | string[] | undefined>;

/**
 * Records an audit event (contract approved, rollback started, …) as a short span named `audit <name>` carrying the
 * attributes, plus a span event of the same name. With no tracer provider registered (telemetry off) the
 * OpenTelemetry API hands out non-recording spans, so this costs next to nothing. Secret-looking attributes are
 * redacted before they leave the process.
 */
export function auditEvent(name: string, attributes: AuditAttributes = {}): void {
  const clean = toOtelAttributes(attributes);
  const span = trace.getTracer(TRACER_NAME).startSpan(`audit ${name}`, {
    kind: SpanKind.INTERNAL,
    attributes: { 'chaos.audit.event': name, ...clean },
  });
  span.addEvent(name, clean);
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

function toOtelAttributes(attributes: AuditAttributes): Attributes {
  const redacted = redactSecrets(attributes) as Record<string, unknown>;
  const out: Attributes = {};
  for (const [key, value] of Object.entries(redacted)) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(String);
  }
  return out;
}
