// Container Apps environment that ships container logs to the Log Analytics workspace.

param location string
param name string
param logAnalyticsWorkspaceName string
param tags object = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
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
