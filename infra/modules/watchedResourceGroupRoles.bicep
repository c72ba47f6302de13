// Deployed at the scope of the resource group whose services the bot watches (and, with the actuator on, steers).
// Monitoring Reader on that group lets it query platform metrics and logs; Container Apps Contributor is granted on
// the one target Container App only, and only when the actuator is enabled.

targetScope = 'resourceGroup'

param principalId string

@description('Grant Container Apps Contributor on actuatorTargetAppName so rollbacks and traffic shifts can run.')
param enableActuator bool = false

@description('Container App in this resource group whose revisions the bot may shift and roll back.')
param actuatorTargetAppName string = ''

var monitoringReaderRoleId = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
var containerAppsContributorRoleId = '358470bc-b998-42bd-ab17-a7e34c199c0f'
var grantActuator = enableActuator && !empty(actuatorTargetAppName)

resource monitoringReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, monitoringReaderRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// An existing reference is only a resource id (no lookup); the placeholder name keeps it well-formed when unused.
resource targetApp 'Microsoft.App/containerApps@2024-03-01' existing = {
  name: empty(actuatorTargetAppName) ? 'no-actuator-target' : actuatorTargetAppName
}

resource containerAppsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantActuator) {
  name: guid(resourceGroup().id, actuatorTargetAppName, principalId, containerAppsContributorRoleId)
  scope: targetApp
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', containerAppsContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output actuatorGranted bool = grantActuator
