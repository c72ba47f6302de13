// The one user-assigned managed identity the bot runs as: Bot Framework identity (UserAssignedMSI), registry pulls,
// Key Vault references, Azure OpenAI (Entra), Azure Monitor queries and, optionally, the Container Apps actuator.

param location string
param name string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
output tenantId string = identity.properties.tenantId
