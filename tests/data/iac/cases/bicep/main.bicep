param location string = 'eastus'

@description('Management subnet reached over the VPN.')
param vpnPool string = '172.16.201.0/24'

resource nsgOpen 'Microsoft.Network/networkSecurityGroups@2023-09-01' = {
  name: 'nsg-bicep-open'
  location: location
  properties: {
    securityRules: [
      {
        name: 'allow-rdp-internet'
        properties: {
          priority: 200
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'Internet'
          sourcePortRange: '*'
          destinationPortRange: '3389'
          destinationAddressPrefix: '*'
        }
      }
    ]
  }
}

resource nsgVpn 'Microsoft.Network/networkSecurityGroups@2023-09-01' = {
  name: 'nsg-bicep-vpn'
  location: location
  properties: {
    securityRules: [
      {
        name: 'allow-rdp-vpn'
        properties: {
          priority: 200
          direction: 'Inbound'
          access: 'Allow'
          protocol: '*'
          sourceAddressPrefix: vpnPool
          sourcePortRange: '*'
          destinationPortRanges: [
            '3389'
            '22'
          ]
          destinationAddressPrefix: '*'
        }
      }
    ]
  }
}

resource udpRange 'Microsoft.Network/networkSecurityGroups/securityRules@2023-09-01' = {
  parent: nsgVpn
  name: 'allow-udp-range'
  properties: {
    priority: 300
    direction: 'Inbound'
    access: 'Allow'
    protocol: 'Udp'
    sourceAddressPrefixes: [
      '0.0.0.0/0'
    ]
    sourcePortRange: '*'
    destinationPortRange: '3380-3390'
    destinationAddressPrefix: '*'
  }
}

resource nsgLab 'Microsoft.Network/networkSecurityGroups@2023-09-01' = {
  //checkov:skip=AUDITOR_NSG_RDP_EXPOSURE:lab network, torn down nightly
  name: 'nsg-bicep-lab'
  location: location
  properties: {
    securityRules: [
      {
        name: 'allow-rdp-any'
        properties: {
          priority: 200
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationPortRange: '3389'
          destinationAddressPrefix: '*'
        }
      }
    ]
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-bicep'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'premium'
    }
    enablePurgeProtection: true
    enableRbacAuthorization: true
    softDeleteRetentionInDays: 90
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
    }
  }
}

// ENC-05, ENC-06, EP-01: a database whose TDE child turns encryption off, a VM from an image past end of
// support, and the anti-malware extension declared as the VM's child.
resource sqlServer 'Microsoft.Sql/servers@2023-05-01-preview' existing = {
  name: 'sql-bicep'
}

resource reportsDb 'Microsoft.Sql/servers/databases@2023-05-01-preview' = {
  parent: sqlServer
  name: 'sqldb-bicep-reports'
  location: location
  sku: {
    name: 'S0'
  }
}

resource reportsTde 'Microsoft.Sql/servers/databases/transparentDataEncryption@2023-05-01-preview' = {
  parent: reportsDb
  name: 'current'
  properties: {
    state: 'Disabled'
  }
}

resource legacySqlVm 'Microsoft.Compute/virtualMachines@2024-03-01' = {
  name: 'vm-bicep-sql2014'
  location: location
  properties: {
    hardwareProfile: {
      vmSize: 'Standard_D4s_v5'
    }
    osProfile: {
      computerName: 'sql2014'
      adminUsername: 'azureadmin'
      windowsConfiguration: {}
    }
    storageProfile: {
      imageReference: {
        publisher: 'MicrosoftSQLServer'
        offer: 'SQL2014SP3-WS2012R2'
        sku: 'Enterprise'
        version: 'latest'
      }
    }
  }
}

resource legacySqlVmAntimalware 'Microsoft.Compute/virtualMachines/extensions@2024-03-01' = {
  parent: legacySqlVm
  name: 'IaaSAntimalware'
  location: location
  properties: {
    publisher: 'Microsoft.Azure.Security'
    type: 'IaaSAntimalware'
    typeHandlerVersion: '1.3'
    settings: {
      AntimalwareEnabled: true
    }
  }
}
