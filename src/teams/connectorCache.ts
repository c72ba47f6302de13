/**
 * Reuses Bot Connector clients across turns.
 *
 * botbuilder's CloudAdapter asks a ConnectorFactory for a new ConnectorClient on every turn (inbound and proactive),
 * and for a new UserTokenClient as well; each is an @azure/core-client ServiceClient with its own HTTP pipeline and
 * its own credentials object (a new MSAL ConfidentialClientApplication, or a new DefaultAzureCredential for a managed
 * identity, at its first signed request). None of that depends on the turn:
 *  - ConnectorClient / UserTokenClientImpl keep only the base URL, options, pipeline and credentials; every operation
 *    takes the conversation and activity as arguments (botframework-connector 4.23 connectorApi, userTokenClientImpl);
 *  - the credentials sign each request when it is sent (`signRequest` → `getToken`), reading the token from
 *    AppCredentials' process-wide cache and refreshing it through MSAL / the managed identity when it is within five
 *    minutes of expiry, so a long-lived client keeps sending valid tokens.
 *
 * ReusingBotFrameworkAuthentication decorates the BotFrameworkAuthentication botbuilder builds and hands CloudAdapter
 * connector factories that memoise clients in a bounded least-recently-used map keyed by (bot app id, audience,
 * serviceUrl) exactly as given, so a different serviceUrl, audience or app id never receives another's client. A
 * creation that fails is not remembered.
 */
import type { Activity } from 'botbuilder';
import {
  type AuthenticateRequestResult,
  AuthenticationConstants,
  BotFrameworkAuthentication,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorClient,
  ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';

/** Enough for every Teams region's serviceUrl, a few audiences and a proactive identity, with room to spare. */
export const DEFAULT_MAX_CLIENTS = 64;

/** Values created on demand and kept in least-recently-used order, at most `maxEntries` of them. */
export class BoundedClientCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(readonly maxEntries: number = DEFAULT_MAX_CLIENTS) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The value remembered for `key`, or the one `create` makes (remembered at once, so concurrent callers share it).
   * A rejected creation is forgotten so that the next caller tries again.
   */
  getOrCreate(key: string, create: () => Promise<T>): Promise<T> {
    const remembered = this.entries.get(key);
    if (remembered) {
      this.entries.delete(key);
      this.entries.set(key, remembered);
      return remembered;
    }
    const created = create();
    this.entries.set(key, created);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    created.catch(() => {
      if (this.entries.get(key) === created) this.entries.delete(key);
    });
    return created;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The app id botbuilder's ParameterizedBotFrameworkAuthentication gives a ConnectorFactory or UserTokenClient for a
 * claims identity: the audience claim (channel tokens, proactive identities), else the appid claim (emulator tokens).
 */
export function appIdOf(claimsIdentity: ClaimsIdentity): string | null {
  return (
    claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ??
    claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim)
  );
}

/** The cache key for a connector client; JSON keeps `null`, `''` and separators inside the parts apart. */
export function connectorKey(appId: string | null, serviceUrl: string, audience: string | undefined): string {
  return JSON.stringify([appId, audience ?? null, serviceUrl]);
}

/** A ConnectorFactory that returns the remembered client for (app id, serviceUrl, audience) or has `inner` make one. */
export class ReusingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string | null,
    private readonly clients: BoundedClientCache<ConnectorClient>,
  ) {
    super();
  }

  override create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return this.clients.getOrCreate(connectorKey(this.appId, serviceUrl, audience), () =>
      this.inner.create(serviceUrl, audience),
    );
  }
}

export interface ReusingAuthenticationOptions {
  /** How many connector clients (and, separately, user token clients) to keep; default DEFAULT_MAX_CLIENTS. */
  maxClients?: number;
}

/**
 * Delegates everything to `inner` (request authentication included), replacing only the connector factories it
 * returns by reusing ones and memoising user token clients per app id.
 */
export class ReusingBotFrameworkAuthentication extends BotFrameworkAuthentication {
  readonly connectorClients: BoundedClientCache<ConnectorClient>;
  readonly userTokenClients: BoundedClientCache<UserTokenClient>;

  constructor(
    private readonly inner: BotFrameworkAuthentication,
    options: ReusingAuthenticationOptions = {},
  ) {
    super();
    this.connectorClients = new BoundedClientCache(options.maxClients ?? DEFAULT_MAX_CLIENTS);
    this.userTokenClients = new BoundedClientCache(options.maxClients ?? DEFAULT_MAX_CLIENTS);
  }

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await this.inner.authenticateRequest(activity, authHeader);
    if (!result.connectorFactory) return result;
    return {
      ...result,
      connectorFactory: new ReusingConnectorFactory(
        result.connectorFactory,
        appIdOf(result.claimsIdentity),
        this.connectorClients,
      ),
    };
  }

  override authenticateStreamingRequest(
    authHeader: string,
    channelIdHeader: string,
  ): Promise<AuthenticateRequestResult> {
    return this.inner.authenticateStreamingRequest(authHeader, channelIdHeader);
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new ReusingConnectorFactory(
      this.inner.createConnectorFactory(claimsIdentity),
      appIdOf(claimsIdentity),
      this.connectorClients,
    );
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.userTokenClients.getOrCreate(JSON.stringify([appIdOf(claimsIdentity)]), () =>
      this.inner.createUserTokenClient(claimsIdentity),
    );
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }

  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.inner.authenticateChannelRequest(authHeader);
  }
}
