/**
 * Ports of the announced-deployment adapters (CI intake, GitHub deployment protection rules). The composition root
 * implements them over the chat service and the store; the routers in this folder only call them.
 */
import type { Contract, DeploymentRequest, RiskLevel } from '../domain/model.js';

/** Where GitHub wants the approve / reject answer of a deployment protection rule. */
export interface ProtectionCallback {
  /** `deployment_callback_url` as GitHub sent it (…/actions/runs/{run_id}/deployment_protection_rule). */
  url: string;
  /** The environment exactly as GitHub names it (may contain spaces); sent back as `environment_name`. */
  environmentName: string;
  /** The GitHub App installation whose token answers the callback. */
  installationId: number;
  /** `owner/name`. */
  repository: string;
  /** The commit being deployed. */
  sha: string;
  /** GitHub's deployment id, when the workflow created a deployment. */
  githubDeploymentId?: number;
}

export type AnnouncementOriginKind = 'ci-intake' | 'github-protection-rule';

export interface AnnounceInput {
  request: DeploymentRequest;
  origin: {
    kind: AnnouncementOriginKind;
    /** `X-Delivery-Id` / `X-GitHub-Delivery` (generated when a CI client sent none). */
    deliveryId: string;
    callback?: ProtectionCallback;
  };
}

export interface AnnounceResult {
  contractId: string;
  revision: number;
  /** A ContractState (`draft`, `negotiating`, `approved`, …). */
  state: string;
  /** Link to the card / contract for humans, when the surface has one. */
  url?: string;
}

export interface ContractStatus {
  contractId: string;
  revision: number;
  state: string;
  /** sha256 of what approvers approve (Contract.contentHash). */
  contentHash?: string;
  risk?: { score: number; level: RiskLevel };
  /** Who approved or rejected (display names or ids), in decision order. */
  decidedBy?: string[];
  /** Rejection reason or approval note. */
  reason?: string;
  url?: string;
  /** The whole contract (its latest revision), for `GET /api/contracts/:id?include=contract`. */
  contract?: Contract;
}

/**
 * Implemented by the composition root over the chat service: `announce` assesses the request, creates the contract
 * and posts the card into the service's configured channel; `status` reads the contract's current state.
 * Throw `AnnounceError('announce_unknown_service', …)` when the service has no channel configured.
 */
export interface DeploymentAnnouncer {
  announce(input: AnnounceInput): Promise<AnnounceResult>;
  status(contractId: string): Promise<ContractStatus | undefined>;
}

export type FinishedDeploymentState = 'success' | 'failure' | 'error';

export interface DeploymentStatusInfo {
  repository: string;
  environment: string;
  githubDeploymentId: number;
  sha: string;
  description?: string;
  logUrl?: string;
}

/** GitHub `deployment_status` events for announced deployments; the composition root wires these to the guardian. */
export interface RolloutHooks {
  started(contractId: string, info: DeploymentStatusInfo): Promise<void>;
  finished(contractId: string, state: FinishedDeploymentState, info: DeploymentStatusInfo): Promise<void>;
}

/**
 * Remembers which contract a delivery id, deployment id or GitHub deployment was announced as, so a retried
 * delivery answers with the existing contract instead of posting a second card. The in-memory ledger
 * (memoryStores.ts) is per process; a multi-replica deployment backs this with the database.
 */
export interface AnnouncementLedger {
  lookup(key: string): Promise<string | undefined>;
  record(key: string, contractId: string): Promise<void>;
}

export interface StoredCallback {
  callback: ProtectionCallback;
  /** Set once GitHub accepted our answer. */
  reported?: 'approved' | 'rejected';
}

/** Protection-rule callbacks waiting for a contract's decision (one contract may gate several workflow runs). */
export interface ProtectionCallbackStore {
  add(contractId: string, callback: ProtectionCallback): Promise<void>;
  list(contractId: string): Promise<StoredCallback[]>;
  markReported(contractId: string, callbackUrl: string, state: 'approved' | 'rejected'): Promise<void>;
}
