import {
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type TimeInput,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { type AzureMonitorBinding, auditEvent, startTelemetry, TRACER_NAME } from '../../src/observability/index.js';

interface Recorded {
  tracer: string;
  name: string;
  attributes: Attributes;
  events: { name: string; attributes?: Attributes }[];
  ended: boolean;
}

/** A minimal recording TracerProvider on the public OpenTelemetry API (no SDK, no exporter). */
class RecordingProvider implements TracerProvider {
  readonly spans: Recorded[] = [];
  getTracer(tracerName: string): Tracer {
    const spans = this.spans;
    const make = (name: string, options?: SpanOptions): Span => {
      const record: Recorded = {
        tracer: tracerName,
        name,
        attributes: { ...options?.attributes },
        events: [],
        ended: false,
      };
      spans.push(record);
      const spanContext: SpanContext = { traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', traceFlags: 1 };
      const span: Span = {
        spanContext: () => spanContext,
        setAttribute: (k, v) => {
          if (v !== undefined) record.attributes[k] = v;
          return span;
        },
        setAttributes: (a) => {
          Object.assign(record.attributes, a);
          return span;
        },
        addEvent: (eventName: string, attributes?: Attributes | TimeInput) => {
          record.events.push({ name: eventName, attributes: attributes as Attributes });
          return span;
        },
        addLink: () => span,
        addLinks: () => span,
        setStatus: () => span,
        updateName: () => span,
        end: () => {
          record.ended = true;
        },
        isRecording: () => true,
        recordException: () => {},
      };
      return span;
    };
    return {
      startSpan: (name: string, options?: SpanOptions, _context?: Context) => make(name, options),
      startActiveSpan: (() => {
        throw new Error('not used');
      }) as Tracer['startActiveSpan'],
    };
  }
}

function fakeDistro() {
  const calls: unknown[] = [];
  let shutdowns = 0;
  const binding: AzureMonitorBinding = {
    useAzureMonitor: (options) => {
      calls.push(options);
    },
    shutdownAzureMonitor: async () => {
      shutdowns++;
    },
  };
  return { binding, calls, shutdowns: () => shutdowns };
}

describe('startTelemetry', () => {
  it('is a no-op without a connection string: the distro is not even loaded', async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return fakeDistro().binding;
    };
    for (const value of [undefined, '', '   ']) {
      const telemetry = await startTelemetry(value, { loadAzureMonitor: load });
      expect(telemetry.enabled).toBe(false);
      await telemetry.shutdown();
    }
    expect(loads).toBe(0);
  });

  it('calls useAzureMonitor with the connection string once set, and shuts down once', async () => {
    const distro = fakeDistro();
    const connectionString =
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1/';
    const telemetry = await startTelemetry(connectionString, { loadAzureMonitor: async () => distro.binding });
    expect(telemetry.enabled).toBe(true);
    expect(distro.calls).toEqual([{ azureMonitorExporterOptions: { connectionString }, enableLiveMetrics: false }]);
    await telemetry.shutdown();
    await telemetry.shutdown();
    expect(distro.shutdowns()).toBe(1);
  });

  it('resolves the real distro module lazily (exports exist)', async () => {
    const distro = await import('@azure/monitor-opentelemetry');
    expect(typeof distro.useAzureMonitor).toBe('function');
    expect(typeof distro.shutdownAzureMonitor).toBe('function');
  });
});

describe('auditEvent', () => {
  it('does nothing harmful without a tracer provider', () => {
    expect(() => auditEvent('contract.approved', { contractId: 'c-1' })).not.toThrow();
  });

  it('emits a span and a span event with redacted attributes', () => {
    const provider = new RecordingProvider();
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    auditEvent('contract.approved', {
      contractId: 'c-42',
      revision: 3,
      actor: 'aad:1234',
      approvers: ['a', 'b'],
      signingSecret: 'super-secret',
      note: 'Bearer abcdefghijklmnop',
      skipped: undefined,
    });
    expect(provider.spans).toHaveLength(1);
    const [span] = provider.spans;
    expect(span).toMatchObject({
      tracer: TRACER_NAME,
      name: 'audit contract.approved',
      ended: true,
      attributes: {
        'chaos.audit.event': 'contract.approved',
        contractId: 'c-42',
        revision: 3,
        actor: 'aad:1234',
        approvers: ['a', 'b'],
        signingSecret: '[REDACTED]',
        note: 'Bearer [REDACTED]',
      },
    });
    expect(span?.attributes).not.toHaveProperty('skipped');
    expect(span?.events).toEqual([
      { name: 'contract.approved', attributes: expect.objectContaining({ contractId: 'c-42' }) },
    ]);
    expect(JSON.stringify(provider.spans)).not.toContain('super-secret');
    trace.disable();
  });
});
