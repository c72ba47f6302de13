// The bot's Container App: one container, images pulled with the managed identity, secrets as Key Vault
// references resolved by the same identity, health probes on /healthz, HTTP concurrency scaling.

param location string
param name string
param environmentId string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

param registryLoginServer string
param containerImage string

@description('Vault URI (ends with /) holding the secrets listed in secretEnv.')
param keyVaultUri string

@description('Plain environment variables: [{ name, value }].')
param env array

@description('Environment variables read from Key Vault: [{ env, secret }] where secret is the Key Vault secret name.')
param secretEnv array

@description('Secrets mounted as files: [{ secret, path }] (Key Vault secret name from secretEnv or fileSecrets, file name under /app/config).')
param secretFiles array = []

@description('Key Vault secrets only mounted as files, not set as variables: secret names.')
param fileSecrets array = []

param targetPort int = 3978

@minValue(1)
param minReplicas int = 1

@minValue(1)
param maxReplicas int = 3

@description('Concurrent HTTP requests per replica before another replica is added.')
param concurrentRequests int = 50

param cpu string = '0.5'
param memory string = '1Gi'
param tags object = {}

var secrets = [for name in union(map(secretEnv, item => item.secret), fileSecrets): {
  name: name
  keyVaultUrl: '${keyVaultUri}secrets/${name}'
  identity: identityId
}]

// Container Apps secret volume: each listed secret becomes a file under /app/config.
var configVolumes = empty(secretFiles) ? [] : [
  {
    name: 'config'
    storageType: 'Secret'
    secrets: [for item in secretFiles: {
      secretRef: item.secret
      path: item.path
    }]
  }
]
var configMounts = empty(secretFiles) ? [] : [
  {
    volumeName: 'config'
    mountPath: '/app/config'
  }
]

var secretEnvVars = [for item in secretEnv: {
  name: item.env
  secretRef: item.secret
}]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: targetPort
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: secrets
    }
    template: {
      containers: [
        {
          name: 'chaos-negotiator'
          image: containerImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(env, secretEnvVars)
          volumeMounts: configMounts
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: targetPort
              }
              initialDelaySeconds: 2
              periodSeconds: 5
              failureThreshold: 24
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/healthz'
                port: targetPort
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: targetPort
              }
              periodSeconds: 30
              failureThreshold: 3
            }
          ]
        }
      ]
      volumes: configVolumes
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

output id string = app.id
output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
output latestRevisionName string = app.properties.latestRevisionName
