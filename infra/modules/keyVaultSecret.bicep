// Writes one secret into the vault. The value arrives as a secure parameter and never appears in outputs.

param vaultName string
param secretName string

@secure()
param value string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: value
  }
}

output name string = secret.name
