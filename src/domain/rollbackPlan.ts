/**
 * Rollback plans for the deployment target, with the real resource names.
 *
 * Names go into shell commands, so they are checked against the platform's own naming rules first; a name that does
 * not match is refused (plan not possible, reason given) rather than escaped into something surprising. Every argument
 * is still passed through shellQuote as a second line of defence.
 *
 * Steps run in `order`; `dependsOn` lists the steps that must have succeeded first. A step whose `command` is the
 * empty string is manual (its validation starts with "manual:"): there is no portable command for it (flag providers,
 * cache products differ), and an executor must ask a person rather than run anything.
 *
 * Times are planning estimates: totalSeconds sums the steps (executors run them one by one); the window is
 * min(max(2 × total, 300 s), 1800 s), the prior system's rule.
 */
import type { DeploymentRequest, FileChange, RiskAssessment, RollbackPlan, RollbackStep } from './model.js';

/** DNS-1123 label (Kubernetes namespaces). */
const K8S_NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** DNS-1123 subdomain (Deployment and Rollout names). */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** Azure resource group: letters, digits, underscore, hyphen, period, parentheses; no trailing period. */
const AZURE_RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;
/** Azure Container App name: lower case letters, digits, hyphens; starts with a letter; 2–32 characters. */
const CONTAINER_APP = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const SAFE_BARE = /^[A-Za-z0-9_\-./=:@%+,]+$/;

/** POSIX shell quoting: bare when only safe characters, else single quotes with embedded quotes escaped. */
export function shellQuote(arg: string): string {
  if (SAFE_BARE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function planRollback(request: DeploymentRequest, risk: RiskAssessment): RollbackPlan {
  const target = request.target;
  const dataLoss = assessDataLoss(request, risk);
  const reasons: string[] = [];
  const refuse = (reason: string): RollbackPlan => ({
    targetKind: target.kind,
    possible: false,
    steps: [],
    totalSeconds: 0,
    windowSeconds: 0,
    dataLossRisk: dataLoss.risk,
    reasons: [reason, ...dataLoss.reasons],
  });

  if (!request.rollbackCapability) {
    return refuse('the request declares no way back (add rollback=true if the previous version can be redeployed)');
  }

  const steps: Omit<RollbackStep, 'order'>[] = [];
  const hasMigration = risk.findings.some((f) => f.factor === 'database_migration');
  const hasCaching = risk.findings.some((f) => f.factor === 'caching');

  // Turning the flag off is the fastest mitigation and needs no redeploy, so it goes first.
  let flagStep: number | undefined;
  if (request.featureFlag) {
    steps.push({
      description: `Turn off feature flag '${request.featureFlag}' in the flag provider`,
      command: '',
      expectedDurationSeconds: 30,
      validation: `manual: the flag provider shows '${request.featureFlag}' off for all users`,
      dependsOn: [],
    });
    flagStep = steps.length;
  }

  const revert = revertSteps(request, reasons);
  if ('refused' in revert) return refuse(revert.refused);
  const firstRevert = steps.length + 1;
  revert.steps.forEach((step, i) => {
    steps.push({ ...step, dependsOn: i === 0 ? [] : [firstRevert + i - 1] });
  });
  const healthy = steps.length;

  if (hasCaching) {
    const cache = request.dependencies.find((d) => /cache|redis|memcache/i.test(`${d.serviceType} ${d.serviceName}`));
    const where = cache ? ` in ${cache.serviceName}` : '';
    steps.push({
      description: `Flush or invalidate cache entries written by ${request.version}${where}, so the previous version does not read them`,
      command: '',
      expectedDurationSeconds: 60,
      validation: 'manual: cache hit ratio recovers and no deserialisation errors appear in the previous version',
      dependsOn: [healthy],
    });
  }

  if (hasMigration) {
    const down = migrationDownCommand(request);
    steps.push({
      description: down.command
        ? `Roll the database migration back (${down.tool}) once the previous version serves all traffic`
        : 'Roll the database migration back with its down script once the previous version serves all traffic',
      command: down.command,
      expectedDurationSeconds: 120,
      validation: down.command
        ? `${down.tool} reports the previous schema revision; the previous version's queries succeed`
        : 'manual: the schema matches the previous release and its queries succeed',
      dependsOn: [healthy],
    });
    if (down.reason) reasons.push(down.reason);
  }

  if (flagStep !== undefined) reasons.unshift(`feature flag '${request.featureFlag}' can switch the change off first`);
  const ordered: RollbackStep[] = steps.map((step, i) => ({ order: i + 1, ...step }));
  const totalSeconds = ordered.reduce((sum, s) => sum + s.expectedDurationSeconds, 0);
  return {
    targetKind: target.kind,
    possible: true,
    steps: ordered,
    totalSeconds,
    windowSeconds: Math.min(Math.max(2 * totalSeconds, 300), 1800),
    dataLossRisk: dataLoss.risk,
    reasons: [...reasons, ...dataLoss.reasons],
  };
}

type RevertStep = Omit<RollbackStep, 'order' | 'dependsOn'>;

function revertSteps(request: DeploymentRequest, reasons: string[]): { steps: RevertStep[] } | { refused: string } {
  const target = request.target;
  const name = target.resourceName || request.serviceName;
  switch (target.kind) {
    case 'kubernetes': {
      const bad = checkKubernetes(target.namespace, name);
      if (bad) return { refused: bad };
      const ns = shellQuote(target.namespace);
      const res = shellQuote(`deployment/${name}`);
      reasons.push(`Kubernetes deployment ${target.namespace}/${name} returns to its previous ReplicaSet`);
      return {
        steps: [
          {
            description: `Roll deployment ${name} in namespace ${target.namespace} back to the previous revision`,
            command: `kubectl -n ${ns} rollout undo ${res}`,
            expectedDurationSeconds: 30,
            validation: 'kubectl prints "rolled back"',
          },
          {
            description: `Wait until the previous revision of ${name} is fully available`,
            command: `kubectl -n ${ns} rollout status ${res} --timeout=300s`,
            expectedDurationSeconds: 120,
            validation: 'rollout status exits 0 (all replicas updated and available)',
          },
        ],
      };
    }
    case 'argo-rollouts': {
      const bad = checkKubernetes(target.namespace, name);
      if (bad) return { refused: bad };
      const ns = shellQuote(target.namespace);
      const res = shellQuote(name);
      reasons.push(`Argo Rollout ${target.namespace}/${name}: abort sends all traffic to the stable version at once`);
      return {
        steps: [
          {
            description: `Abort rollout ${name}: canary weight to 0, stable serves all traffic`,
            command: `kubectl argo rollouts -n ${ns} abort ${res}`,
            expectedDurationSeconds: 15,
            validation: 'rollout status shows Degraded with canary weight 0',
          },
          {
            description: `Point rollout ${name} back at the previous revision`,
            command: `kubectl argo rollouts -n ${ns} undo ${res}`,
            expectedDurationSeconds: 30,
            validation: 'kubectl argo rollouts prints "rolled back"',
          },
          {
            description: `Wait until rollout ${name} is healthy on the previous revision`,
            command: `kubectl argo rollouts -n ${ns} status ${res} --timeout 300s`,
            expectedDurationSeconds: 120,
            validation: 'status exits 0 with the rollout Healthy',
          },
        ],
      };
    }
    case 'azure-container-apps': {
      const rg = target.namespace;
      if (!AZURE_RESOURCE_GROUP.test(rg)) {
        return {
          refused: `resource group '${rg}' is not a valid Azure resource group name; refusing to build commands`,
        };
      }
      if (!CONTAINER_APP.test(name)) {
        return { refused: `'${name}' is not a valid Azure Container App name; refusing to build commands` };
      }
      if (!request.previousVersion) {
        return {
          refused:
            'the previous version is unknown: an Azure Container Apps rollback must name the revision to restore',
        };
      }
      const previous = revisionName(name, request.previousVersion);
      const current = revisionName(name, request.version);
      if (!previous || !current) {
        return { refused: 'versions cannot be turned into Azure Container Apps revision names (letters, digits, -)' };
      }
      const g = shellQuote(rg);
      const n = shellQuote(name);
      reasons.push(
        `Azure Container App ${name}: traffic back to revision ${previous} (revisions named <app>--<version with . as ->)`,
      );
      return {
        steps: [
          {
            description: `Send 100 % of traffic to the previous revision ${previous}`,
            command: `az containerapp ingress traffic set -g ${g} -n ${n} --revision-weight ${shellQuote(`${previous}=100`)} ${shellQuote(`${current}=0`)}`,
            expectedDurationSeconds: 30,
            validation: `az containerapp ingress traffic show lists ${previous} at weight 100`,
          },
          {
            description: `Deactivate the new revision ${current}`,
            command: `az containerapp revision deactivate -g ${g} -n ${n} --revision ${shellQuote(current)}`,
            expectedDurationSeconds: 30,
            validation: `revision ${current} reports active: false`,
          },
          {
            description: `Check that revision ${previous} is healthy`,
            command: `az containerapp revision show -g ${g} -n ${n} --revision ${shellQuote(previous)} --query properties.healthState -o tsv`,
            expectedDurationSeconds: 30,
            validation: 'prints Healthy',
          },
        ],
      };
    }
    case 'custom': {
      const rollback = target.customRollbackCommand?.trim();
      if (!rollback) return { refused: 'custom target without a rollback command (target.custom_rollback_command)' };
      reasons.push('custom target: the operator-supplied rollback command');
      const steps: RevertStep[] = [
        {
          description: `Run the operator's rollback command for ${request.serviceName}`,
          command: rollback,
          expectedDurationSeconds: 120,
          validation: 'the command exits 0',
        },
      ];
      const health = target.customHealthCommand?.trim();
      if (health) {
        steps.push({
          description: `Run the operator's health check for ${request.serviceName}`,
          command: health,
          expectedDurationSeconds: 30,
          validation: 'the command exits 0',
        });
      }
      return { steps };
    }
  }
}

function checkKubernetes(namespace: string, name: string): string | null {
  if (!K8S_NAMESPACE.test(namespace)) {
    return `namespace '${namespace}' is not a valid Kubernetes namespace (DNS-1123 label); refusing to build commands`;
  }
  if (!K8S_NAME.test(name)) {
    return `'${name}' is not a valid Kubernetes resource name (DNS-1123 subdomain); refusing to build commands`;
  }
  return null;
}

function revisionName(app: string, version: string): string | null {
  const suffix = version
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = `${app}--${suffix}`;
  return suffix && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(name) && name.length <= 54 ? name : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Migrations

const MIGRATION_PATH = /(^|\/)(migrations?|migrate|alembic|flyway|liquibase|db\/changelog)(\/|$)|\.sql$/i;
const DESTRUCTIVE = /\b(DROP|DELETE|TRUNCATE)\b/i;

function migrationFiles(request: DeploymentRequest, risk: RiskAssessment): FileChange[] {
  const cited = new Set(
    risk.findings
      .filter((f) => f.factor === 'database_migration')
      .flatMap((f) => f.evidence.map((e) => e.file))
      .filter((f): f is string => typeof f === 'string'),
  );
  return request.changes.filter((c) => cited.has(c.filePath) || MIGRATION_PATH.test(c.filePath));
}

function assessDataLoss(
  request: DeploymentRequest,
  risk: RiskAssessment,
): { risk: RollbackPlan['dataLossRisk']; reasons: string[] } {
  const migration = risk.findings.find((f) => f.factor === 'database_migration');
  const files = migrationFiles(request, risk);
  const deletedMigration = files.find((c) => c.changeType === 'delete');
  if (deletedMigration) {
    return {
      risk: 'high',
      reasons: [`data-loss risk high: migration ${deletedMigration.filePath} is deleted`],
    };
  }
  const destructiveEvidence = migration?.evidence.find((e) => DESTRUCTIVE.test(e.text));
  if (destructiveEvidence) {
    const where = destructiveEvidence.file
      ? ` in ${destructiveEvidence.file}${destructiveEvidence.line ? `:${destructiveEvidence.line}` : ''}`
      : '';
    return {
      risk: 'high',
      reasons: [`data-loss risk high: destructive statement "${clip(destructiveEvidence.text)}"${where}`],
    };
  }
  for (const file of files) {
    const line = file.addedLines?.find((l) => DESTRUCTIVE.test(l.text));
    if (line) {
      return {
        risk: 'high',
        reasons: [`data-loss risk high: destructive statement "${clip(line.text)}" in ${file.filePath}:${line.line}`],
      };
    }
  }
  if (migration) {
    return {
      risk: 'medium',
      reasons: [
        'data-loss risk medium: schema change; rows written by the new version may not survive the down migration',
      ],
    };
  }
  const deleted = request.changes.find((c) => c.changeType === 'delete');
  if (deleted) return { risk: 'low', reasons: [`data-loss risk low: ${deleted.filePath} is deleted`] };
  return { risk: 'none', reasons: [] };
}

function clip(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

/** A down-migration command for the tool the migration files reveal; empty command when there is no safe one. */
function migrationDownCommand(request: DeploymentRequest): { tool: string; command: string; reason: string } {
  const added = request.changes.filter((c) => c.changeType === 'add');
  const paths = request.changes.map((c) => c.filePath);
  const count = (re: RegExp) => Math.max(1, added.filter((c) => re.test(c.filePath)).length);

  const alembic = /(^|\/)alembic\/versions\/[^/]+\.py$/;
  if (paths.some((p) => alembic.test(p))) {
    return { tool: 'alembic', command: `alembic downgrade -${count(alembic)}`, reason: '' };
  }
  const rails = /(^|\/)db\/migrate\/\d+_[^/]+\.rb$/;
  if (paths.some((p) => rails.test(p))) {
    return { tool: 'rails', command: `bin/rails db:rollback STEP=${count(rails)}`, reason: '' };
  }
  const django = /(^|\/)([A-Za-z_][A-Za-z0-9_]*)\/migrations\/(\d{4})_[A-Za-z0-9_]+\.py$/;
  const djangoFile = added.map((c) => django.exec(c.filePath)).find((m) => m !== null);
  if (djangoFile) {
    const app = djangoFile[2] as string;
    const number = Number(djangoFile[3]);
    const previous = number > 1 ? String(number - 1).padStart(4, '0') : 'zero';
    return { tool: 'django', command: `python manage.py migrate ${shellQuote(app)} ${previous}`, reason: '' };
  }
  if (paths.some((p) => /(^|\/)knexfile\.[cm]?[jt]s$/.test(p) || /(^|\/)migrations\/\d+_[^/]+\.[cm]?[jt]s$/.test(p))) {
    return { tool: 'knex', command: 'npx knex migrate:rollback', reason: '' };
  }
  const flyway = /(^|\/)V\d+(_\d+)*__[^/]+\.sql$/;
  if (paths.some((p) => flyway.test(p))) {
    return {
      tool: 'flyway',
      command: 'flyway undo',
      reason: 'flyway undo needs matching U__ undo scripts (Flyway Teams); check they exist',
    };
  }
  return {
    tool: 'manual',
    command: '',
    reason: 'no migration tool recognised from the file paths: the down migration is a manual step',
  };
}
