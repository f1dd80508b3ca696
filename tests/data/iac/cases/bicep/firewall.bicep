param location string = 'eastus'

@description('The whitelisted office egress that may reach the jump host over RDP.')
param officeEgress string = '203.0.113.0/24'

resource policy 'Microsoft.Network/firewallPolicies@2023-09-01' = {
  name: 'afwp-bicep'
  location: location
  properties: {
    threatIntelMode: 'Deny'
  }
}

resource dnatOpen 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2023-09-01' = {
  parent: policy
  name: 'rcg-dnat-open'
  properties: {
    priority: 100
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyNatRuleCollection'
        name: 'dnat-jump'
        priority: 100
        action: {
          type: 'DNAT'
        }
        rules: [
          {
            ruleType: 'NatRule'
            name: 'rdp-jump-vendor'
            ipProtocols: [
              'TCP'
            ]
            sourceAddresses: [
              '*'
            ]
            destinationAddresses: [
              '192.0.2.10'
            ]
            destinationPorts: [
              '53389'
            ]
            translatedAddress: '10.1.1.4'
            translatedPort: '3389'
          }
        ]
      }
    ]
  }
}

resource dnatOffice 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2023-09-01' = {
  parent: policy
  name: 'rcg-dnat-office'
  properties: {
    priority: 200
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyNatRuleCollection'
        name: 'dnat-office'
        priority: 100
        action: {
          type: 'DNAT'
        }
        rules: [
          {
            ruleType: 'NatRule'
            name: 'rdp-jump-office'
            ipProtocols: [
              'TCP'
              'UDP'
            ]
            sourceAddresses: [
              officeEgress
            ]
            destinationAddresses: [
              '192.0.2.10'
            ]
            destinationPorts: [
              '3389'
            ]
            translatedAddress: '10.1.1.4'
            translatedPort: '3389'
          }
        ]
      }
    ]
  }
}
