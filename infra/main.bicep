// Chaos Negotiator on Azure: Container Apps + Container Registry + Log Analytics/Application Insights + Key Vault
// (RBAC) + one user-assigned managed identity with least-privilege roles + Azure Bot (Teams channel, UserAssignedMSI)
// + Azure OpenAI + PostgreSQL flexible server with private access (its own virtual network, no public endpoint).
//
// Everything the server reads can be set here: plain settings as parameters (publicUrl, githubAppId,
// prometheusUrl, approvers, extraEnv), secrets through appSecretValues (written to Key Vault: CHAOS_INTAKE_SECRET,
// CHAOS_STATUS_TOKENS, CHAOS_ENGINE_WEBHOOK_TOKEN, CHAOS_AUDIT_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET, SLACK_*, ...) or
// appSecrets (already in the vault), and the services file (servicesFileContent, or servicesSecretName for a vault
// secret an operator maintains) mounted as /app/config/services.yaml.
//
// Two-phase by design: with containerImage empty only the infrastructure is created (registry, identity, vault, bot
// registration, ...); the Container App is created once an image exists in the registry (teamsapp.yml builds it
// between the two deployments). The bot endpoint is known in phase one because Container App host names are
// <app name>.<environment default domain>.
//
// The deploying principal needs Owner or User Access Administrator (role assignments) on the resource group, and on
// the watched resource group when that is a different one.

targetScope = 'resourceGroup'

@minLength(3)
@maxLength(12)
@description('Lowercase letters and digits only; prefixes every resource name (e.g. chaosdev).')
param resourceBaseName string

param location string = resourceGroup().location

@allowed([
  'dev'
  'prod'
])
param environmentName string = 'dev'

param botDisplayName string = 'Chaos Negotiator'

@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Image to run (registry/repository:tag). Empty: infrastructure only, no Container App yet.')
param containerImage string = ''

@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
])
param logLevel string = 'info'

@minValue(1)
@description('At least one replica always runs: the rollout guardian works between chat messages. Forced to 1 without PostgreSQL.')
param minReplicas int = 1

@minValue(1)
@description('More than one replica needs PostgreSQL (deployPostgres); with the embedded store it is forced to 1.')
param maxReplicas int = 3

param containerCpu string = '0.5'
param containerMemory string = '1Gi'

@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param registrySku string = 'Basic'

@description('Key Vault purge protection; cannot be switched off again. Recommended for prod.')
param enablePurgeProtection bool = false

@description('Create an Azure OpenAI account and model deployment for the negotiator (else the offline negotiator).')
param deployOpenAI bool = true

param openAiLocation string = location
param openAiDeploymentName string = 'chaos-gpt-4o-mini'
param openAiModelName string = 'gpt-4o-mini'
param openAiModelVersion string = '2024-07-18'

@allowed([
  'Standard'
  'GlobalStandard'
  'DataZoneStandard'
])
param openAiDeploymentSku string = 'GlobalStandard'

@description('Thousands of tokens per minute.')
param openAiCapacity int = 30

@description('Create a PostgreSQL flexible server with private access: durable state, and needed for more than one replica. Without it the embedded store lives on the replica\'s disk and is lost with the revision.')
param deployPostgres bool = true

@secure()
@description('PostgreSQL administrator password; required when deployPostgres is true. Stored only in Key Vault.')
param postgresAdminPassword string = ''

param postgresSkuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@description('Resource group of the services whose rollouts the bot watches (Monitoring Reader is granted there).')
param watchedResourceGroupName string = resourceGroup().name

@description('Log Analytics workspace id (GUID) holding the watched services\' telemetry. Empty: this deployment\'s workspace.')
param metricsWorkspaceCustomerId string = ''

@description('Application Insights resource id of the watched services. Empty: this deployment\'s component.')
param metricsAppInsightsResourceId string = ''

@description('Let the bot shift traffic and roll back revisions of actuatorTargetAppName (Container Apps Contributor on that app only).')
param enableActuator bool = false

@description('Container App in watchedResourceGroupName that the actuator steers.')
param actuatorTargetAppName string = ''

@description('Entra object ids allowed to approve in Teams: comma list or JSON array (TEAMS_APPROVERS).')
param teamsApprovers string = ''

@description('Slack user ids allowed to approve: comma list or JSON array (SLACK_APPROVERS).')
param slackApprovers string = ''

@description('JSON object of named approver groups (APPROVER_GROUPS).')
param approverGroups string = ''

@secure()
@description('App secrets by environment variable name, e.g. { SLACK_BOT_TOKEN: ..., CHAOS_INTAKE_SECRET: ... }. Each non-empty value is written to Key Vault (secret name: the variable in lower-kebab case) and reaches the app as a Key Vault reference.')
param appSecretValues object = {}

@description('Secrets already stored in the vault by an operator: [{ env: "SLACK_BOT_TOKEN", secret: "slack-bot-token" }].')
param appSecrets array = []

@description('The services file (YAML, src/config/services.ts): which channel each service announces to, its engine and namespace. Stored in Key Vault and mounted as CHAOS_SERVICES_FILE. Empty: see servicesSecretName.')
param servicesFileContent string = ''

@description('Key Vault secret holding the services file, maintained by an operator (az keyvault secret set --file). Used when servicesFileContent is empty.')
param servicesSecretName string = ''

@description('The bot\'s public base URL (CHAOS_PUBLIC_URL: contract links, Argo\'s web metric). Empty: the Container App\'s own https address.')
param publicUrl string = ''

@description('GitHub App id for deployment protection rules (GITHUB_APP_ID); its private key goes in appSecretValues.GITHUB_APP_PRIVATE_KEY.')
param githubAppId string = ''

@description('Prometheus base URL for the guardian and engine judging (METRICS_PROVIDER=prometheus). Empty: Azure Monitor.')
param prometheusUrl string = ''

@description('Extra plain environment variables: [{ name: "...", value: "..." }].')
param extraEnv array = []

param tags object = {}

var suffix = take(uniqueString(subscription().id, resourceGroup().id, resourceBaseName), 6)
var allTags = union(tags, {
  application: 'chaos-negotiator'
  environment: environmentName
})
var names = {
  identity: 'id-${resourceBaseName}'
  workspace: 'log-${resourceBaseName}'
  appInsights: 'appi-${resourceBaseName}'
  registry: 'cr${resourceBaseName}${suffix}'
  keyVault: 'kv-${resourceBaseName}-${suffix}'
  environment: 'cae-${resourceBaseName}'
  app: 'ca-${resourceBaseName}'
  bot: 'bot-${resourceBaseName}-${suffix}'
  openAi: 'oai-${resourceBaseName}-${suffix}'
  postgres: 'psql-${resourceBaseName}-${suffix}'
  network: 'vnet-${resourceBaseName}'
}
var servicesSecret = !empty(servicesFileContent) ? 'chaos-services-file' : servicesSecretName
var servicesPath = '/app/config/services.yaml'
var providedSecrets = filter(items(appSecretValues), entry => !empty(entry.value))
var providedSecretEnv = [for entry in providedSecrets: {
  env: entry.key
  secret: toLower(replace(entry.key, '_', '-'))
}]
var deployApp = !empty(containerImage)
var actuatorActive = enableActuator && !empty(actuatorTargetAppName)
var containerPort = 3978
var dataDir = '/app/.data'

module identity './modules/identity.bicep' = {
  name: 'chaos-identity'
  params: {
    location: location
    name: names.identity
    tags: allTags
  }
}

module monitoring './modules/monitoring.bicep' = {
  name: 'chaos-monitoring'
  params: {
    location: location
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    retentionInDays: logRetentionInDays
    tags: allTags
  }
}

module registry './modules/registry.bicep' = {
  name: 'chaos-registry'
  params: {
    location: location
    name: names.registry
    sku: registrySku
    pullPrincipalId: identity.outputs.principalId
    tags: allTags
  }
}

module keyVault './modules/keyVault.bicep' = {
  name: 'chaos-keyvault'
  params: {
    location: location
    name: names.keyVault
    readerPrincipalId: identity.outputs.principalId
    enablePurgeProtection: enablePurgeProtection
    tags: allTags
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: names.appInsights
}

module appInsightsSecret './modules/keyVaultSecret.bicep' = {
  name: 'chaos-secret-appinsights'
  params: {
    vaultName: keyVault.outputs.name
    secretName: 'appinsights-connection-string'
    value: appInsights.properties.ConnectionString
  }
  dependsOn: [
    monitoring
  ]
}

module appSecretWrites './modules/keyVaultSecret.bicep' = [for entry in providedSecrets: {
  name: 'chaos-secret-${toLower(replace(entry.key, '_', '-'))}'
  params: {
    vaultName: keyVault.outputs.name
    secretName: toLower(replace(entry.key, '_', '-'))
    value: entry.value
  }
}]

module servicesFileSecret './modules/keyVaultSecret.bicep' = if (!empty(servicesFileContent)) {
  name: 'chaos-secret-services-file'
  params: {
    vaultName: keyVault.outputs.name
    secretName: 'chaos-services-file'
    value: servicesFileContent
  }
}

module network './modules/network.bicep' = if (deployPostgres) {
  name: 'chaos-network'
  params: {
    location: location
    name: names.network
    tags: allTags
  }
}

module openAi './modules/openai.bicep' = if (deployOpenAI) {
  name: 'chaos-openai'
  params: {
    location: openAiLocation
    name: names.openAi
    deploymentName: openAiDeploymentName
    modelName: openAiModelName
    modelVersion: openAiModelVersion
    deploymentSku: openAiDeploymentSku
    capacity: openAiCapacity
    userPrincipalId: identity.outputs.principalId
    tags: allTags
  }
}

module postgres './modules/postgres.bicep' = if (deployPostgres) {
  name: 'chaos-postgres'
  params: {
    location: location
    name: names.postgres
    administratorPassword: postgresAdminPassword
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    delegatedSubnetId: network.outputs.postgresSubnetId
    privateDnsZoneId: network.outputs.privateDnsZoneId
    keyVaultName: keyVault.outputs.name
    tags: allTags
  }
}

module watchedRoles './modules/watchedResourceGroupRoles.bicep' = {
  name: 'chaos-watched-roles'
  scope: resourceGroup(watchedResourceGroupName)
  params: {
    principalId: identity.outputs.principalId
    enableActuator: enableActuator
    actuatorTargetAppName: actuatorTargetAppName
  }
}

module containerEnvironment './modules/containerAppsEnvironment.bicep' = {
  name: 'chaos-container-env'
  params: {
    location: location
    name: names.environment
    logAnalyticsWorkspaceName: monitoring.outputs.workspaceName
    infrastructureSubnetId: deployPostgres ? network.outputs.appsSubnetId : ''
    tags: allTags
  }
}

module bot './modules/bot.bicep' = {
  name: 'chaos-bot'
  params: {
    name: names.bot
    displayName: botDisplayName
    messagingEndpoint: 'https://${names.app}.${containerEnvironment.outputs.defaultDomain}/api/messages'
    identityClientId: identity.outputs.clientId
    identityResourceId: identity.outputs.id
    identityTenantId: identity.outputs.tenantId
    sku: botSku
    tags: allTags
  }
}

module app './modules/containerApp.bicep' = if (deployApp) {
  name: 'chaos-app'
  params: {
    location: location
    name: names.app
    environmentId: containerEnvironment.outputs.id
    identityId: identity.outputs.id
    registryLoginServer: registry.outputs.loginServer
    containerImage: containerImage
    keyVaultUri: keyVault.outputs.uri
    targetPort: containerPort
    minReplicas: deployPostgres ? minReplicas : 1
    maxReplicas: deployPostgres ? maxReplicas : 1
    cpu: containerCpu
    memory: containerMemory
    tags: allTags
    // Names match src/config (see src/config/README.md).
    env: concat([
      {
        name: 'CHAOS_MODE'
        value: 'production'
      }
      {
        name: 'PORT'
        value: string(containerPort)
      }
      {
        name: 'HOST'
        value: '0.0.0.0'
      }
      {
        name: 'LOG_LEVEL'
        value: logLevel
      }
      {
        name: 'CHAOS_DATA_DIR'
        value: dataDir
      }
      {
        name: 'MicrosoftAppType'
        value: 'UserAssignedMSI'
      }
      {
        name: 'MicrosoftAppId'
        value: identity.outputs.clientId
      }
      {
        name: 'MicrosoftAppTenantId'
        value: identity.outputs.tenantId
      }
      {
        name: 'AZURE_CLIENT_ID'
        value: identity.outputs.clientId
      }
      {
        name: 'METRICS_PROVIDER'
        value: empty(prometheusUrl) ? 'azure-monitor' : 'prometheus'
      }
      {
        name: 'CHAOS_PUBLIC_URL'
        value: empty(publicUrl) ? 'https://${names.app}.${containerEnvironment.outputs.defaultDomain}' : publicUrl
      }
      {
        name: 'AZURE_MONITOR_WORKSPACE_ID'
        value: empty(metricsWorkspaceCustomerId) ? monitoring.outputs.workspaceCustomerId : metricsWorkspaceCustomerId
      }
      {
        name: 'AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID'
        value: empty(metricsAppInsightsResourceId) ? monitoring.outputs.appInsightsId : metricsAppInsightsResourceId
      }
      {
        name: 'ROLLOUT_TARGET'
        value: actuatorActive ? 'azure-container-apps' : 'dry-run'
      }
    ], deployOpenAI ? [
      {
        name: 'AZURE_OPENAI_ENDPOINT'
        value: openAi.outputs.endpoint
      }
      {
        name: 'AZURE_OPENAI_DEPLOYMENT'
        value: openAi.outputs.deploymentName
      }
      {
        name: 'AZURE_OPENAI_USE_ENTRA'
        value: 'true'
      }
    ] : [], actuatorActive ? [
      {
        name: 'AZURE_SUBSCRIPTION_ID'
        value: subscription().subscriptionId
      }
      {
        name: 'AZURE_RESOURCE_GROUP'
        value: watchedResourceGroupName
      }
      {
        name: 'AZURE_CONTAINER_APP_NAME'
        value: actuatorTargetAppName
      }
    ] : [], empty(prometheusUrl) ? [] : [
      {
        name: 'PROMETHEUS_URL'
        value: prometheusUrl
      }
    ], empty(servicesSecret) ? [] : [
      {
        name: 'CHAOS_SERVICES_FILE'
        value: servicesPath
      }
    ], empty(githubAppId) ? [] : [
      {
        name: 'GITHUB_APP_ID'
        value: githubAppId
      }
    ], empty(teamsApprovers) ? [] : [
      {
        name: 'TEAMS_APPROVERS'
        value: teamsApprovers
      }
    ], empty(slackApprovers) ? [] : [
      {
        name: 'SLACK_APPROVERS'
        value: slackApprovers
      }
    ], empty(approverGroups) ? [] : [
      {
        name: 'APPROVER_GROUPS'
        value: approverGroups
      }
    ], extraEnv)
    secretEnv: concat([
      {
        env: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
        secret: 'appinsights-connection-string'
      }
    ], deployPostgres ? [
      {
        env: 'DATABASE_URL'
        secret: 'database-url'
      }
    ] : [], providedSecretEnv, appSecrets)
    fileSecrets: empty(servicesSecret) ? [] : [
      servicesSecret
    ]
    secretFiles: empty(servicesSecret) ? [] : [
      {
        secret: servicesSecret
        path: 'services.yaml'
      }
    ]
  }
  dependsOn: [
    appInsightsSecret
    appSecretWrites
    servicesFileSecret
    postgres
    watchedRoles
  ]
}

// Read by teamsapp.yml and the deploy workflow; the toolkit writes them to env/.env.<environment>.
output BOT_ID string = identity.outputs.clientId
output BOT_TENANT_ID string = identity.outputs.tenantId
output BOT_DOMAIN string = '${names.app}.${containerEnvironment.outputs.defaultDomain}'
output BOT_ENDPOINT string = 'https://${names.app}.${containerEnvironment.outputs.defaultDomain}'
output AZURE_RESOURCE_GROUP_NAME string = resourceGroup().name
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_REGISTRY_LOGIN_SERVER string = registry.outputs.loginServer
output AZURE_CONTAINER_APP_NAME string = names.app
output AZURE_CONTAINER_APP_DEPLOYED bool = deployApp
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_OPENAI_ENDPOINT string = deployOpenAI ? openAi.outputs.endpoint : ''
output APPLICATIONINSIGHTS_RESOURCE_ID string = monitoring.outputs.appInsightsId
