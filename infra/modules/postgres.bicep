// PostgreSQL flexible server: durable state for every profile and scale-out (several bot replicas share it).
// Password authentication; the password comes in as a secure parameter and the full DATABASE_URL is written to Key
// Vault, never to an output. Private access only: the server lives in a delegated subnet of the bot's virtual network
// with public network access disabled (no firewall rule at all), so only the Container Apps environment reaches it.

param location string
param name string

param administratorLogin string = 'chaosadmin'

@secure()
param administratorPassword string

param databaseName string = 'chaos'

param skuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

param storageSizeGB int = 32

@allowed([
  '15'
  '16'
])
param version string = '16'

@description('Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (network.bicep).')
param delegatedSubnetId string

@description('Private DNS zone (…postgres.database.azure.com) linked to the virtual network.')
param privateDnsZoneId string

@description('Key Vault that receives the database-url secret.')
param keyVaultName string

param tags object = {}

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorPassword
    authConfig: {
      activeDirectoryAuth: 'Disabled'
      passwordAuth: 'Enabled'
    }
    storage: {
      storageSizeGB: storageSizeGB
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: delegatedSubnetId
      privateDnsZoneArmResourceId: privateDnsZoneId
      publicNetworkAccess: 'Disabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource databaseUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql://${administratorLogin}:${uriComponent(administratorPassword)}@${server.properties.fullyQualifiedDomainName}:5432/${database.name}?sslmode=require'
  }
}

output id string = server.id
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseUrlSecretName string = databaseUrl.name
