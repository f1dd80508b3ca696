resource nsgVpn 'Microsoft.Network/networkSecurityGroups@2023-09-01' = {
  name: 'nsg-vpn'
  location: 'eastus'
  properties: {
    securityRules: [
      {
        name: 'allow-rdp-vpn'
        properties: {
          priority: 200
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: '172.16.201.0/24'
          sourcePortRange: '*'
          destinationPortRange: '3389'
          destinationAddressPrefix: '*'
        }
      }
    ]
  }
}
