// Container Apps environment that ships container logs to the Log Analytics workspace. Note: an environment's
// network cannot change after creation; switching deployPostgres on for an existing deployment recreates it.

param location string
param name string
param logAnalyticsWorkspaceName string

@description('Subnet the environment runs in (network.bicep), so it reaches the private PostgreSQL. Empty: no VNet.')
param infrastructureSubnetId string = ''

param tags object = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // A workload profiles environment: the consumption profile, with the VNet subnet when one is given.
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    vnetConfiguration: empty(infrastructureSubnetId)
      ? null
      : {
          infrastructureSubnetId: infrastructureSubnetId
          internal: false
        }
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

output id string = environment.id
output name string = environment.name
@description('Apps in this environment are reachable at <app name>.<defaultDomain>.')
output defaultDomain string = environment.properties.defaultDomain
