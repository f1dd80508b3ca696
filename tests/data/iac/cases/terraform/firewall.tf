resource "azurerm_firewall_policy" "hub" {
  name                     = "afwp-tf"
  resource_group_name      = "rg-network"
  location                 = "eastus"
  threat_intelligence_mode = "Deny"
}

variable "partner_egress" {
  type = string
}

# Publishes the jump host's RDP to every address on the firewall's public IP.
resource "azurerm_firewall_policy_rule_collection_group" "dnat_open" {
  name               = "rcg-dnat-open"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 100

  nat_rule_collection {
    name     = "dnat-jump"
    priority = 100
    action   = "Dnat"
    rule {
      name                = "rdp-jump"
      protocols           = ["TCP", "UDP"]
      source_addresses    = ["*"]
      destination_address = "192.0.2.10"
      destination_ports   = ["3389"]
      translated_address  = "10.1.1.4"
      translated_port     = 3389
    }
  }
}

# Whitelisted office egress only.
resource "azurerm_firewall_policy_rule_collection_group" "dnat_office" {
  name               = "rcg-dnat-office"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200

  nat_rule_collection {
    name     = "dnat-office"
    priority = 100
    action   = "Dnat"
    rule {
      name                = "rdp-office"
      protocols           = ["TCP"]
      source_addresses    = ["203.0.113.0/24"]
      destination_address = "192.0.2.10"
      destination_ports   = ["3389"]
      translated_address  = "10.1.1.4"
      translated_port     = 3389
    }
  }
}

# The partner's egress is only known at deployment.
resource "azurerm_firewall_policy_rule_collection_group" "dnat_partner" {
  name               = "rcg-dnat-partner"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 300

  nat_rule_collection {
    name     = "dnat-partner"
    priority = 100
    action   = "Dnat"
    rule {
      name                = "rdp-partner"
      protocols           = ["TCP"]
      source_addresses    = [var.partner_egress]
      destination_address = "192.0.2.10"
      destination_ports   = ["3389"]
      translated_address  = "10.1.1.4"
      translated_port     = 3389
    }
  }
}
