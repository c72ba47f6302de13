/**
 * The chat-completions client for the model negotiator: Azure OpenAI with an API key or Microsoft Entra ID
 * (DefaultAzureCredential, or a user-assigned managed identity), or any OpenAI-compatible endpoint.
 * Retries are off in the SDK: the negotiator owns retry and timeout decisions.
 */
import {
  DefaultAzureCredential,
  getBearerTokenProvider,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import OpenAI, { AzureOpenAI } from 'openai';
import type { ModelConfig } from '../config/config.js';
import { NegotiationError } from './errors.js';

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

export interface ModelClient {
  client: OpenAI;
  /** Model name sent in the request (the deployment name for Azure). */
  model: string;
  provider: 'azure-openai' | 'openai-compatible';
  /** Host of the endpoint, for logs and notes (never the key). */
  endpointHost: string;
}

export interface ModelClientOptions {
  /** Per-request ceiling in ms for the SDK; the negotiator aborts earlier through its own signal. */
  timeoutMs?: number;
  /** Credential for Entra ID auth; default DefaultAzureCredential or ManagedIdentityCredential({ clientId }). */
  credential?: TokenCredential;
}

function hostOf(url: string | undefined): string {
  if (!url) return 'api.openai.com';
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

/** A client for the configured model, or null when the configuration is offline. */
export function createModelClient(config: ModelConfig, options: ModelClientOptions = {}): ModelClient | null {
  const common = {
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
  };
  switch (config.provider) {
    case 'offline':
      return null;
    case 'azure-openai': {
      const base = {
        ...common,
        endpoint: config.endpoint,
        deployment: config.deployment,
        apiVersion: config.apiVersion,
      };
      let client: AzureOpenAI;
      if (config.auth.kind === 'api-key') {
        client = new AzureOpenAI({ ...base, apiKey: config.auth.apiKey });
      } else {
        const credential =
          options.credential ??
          (config.auth.managedIdentityClientId
            ? new ManagedIdentityCredential({ clientId: config.auth.managedIdentityClientId })
            : new DefaultAzureCredential());
        client = new AzureOpenAI({
          ...base,
          azureADTokenProvider: getBearerTokenProvider(credential, COGNITIVE_SERVICES_SCOPE),
        });
      }
      return { client, model: config.deployment, provider: 'azure-openai', endpointHost: hostOf(config.endpoint) };
    }
    case 'openai-compatible': {
      if (!config.apiKey && !config.baseUrl) {
        throw new NegotiationError(
          'negotiation_not_configured',
          'an OpenAI-compatible model needs an API key or a base URL',
        );
      }
      const client = new OpenAI({
        ...common,
        // Local OpenAI-compatible servers often need no key; the SDK insists on a non-empty string.
        apiKey: config.apiKey ?? 'no-key',
        ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      });
      return { client, model: config.model, provider: 'openai-compatible', endpointHost: hostOf(config.baseUrl) };
    }
  }
}
