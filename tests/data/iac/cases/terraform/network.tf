# NET-01 and NET-04 cases: one network security group per source, protocol and port form.

resource "azurerm_network_security_group" "rdp_star" {
  name                = "nsg-rdp-star"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-star"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_internet" {
  name                = "nsg-rdp-internet"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-internet"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_any" {
  name                = "nsg-rdp-any"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-any"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "Any"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_zero" {
  name                = "nsg-rdp-zero"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-zero"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "0.0.0.0/0"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_ipv6_any" {
  name                = "nsg-rdp-ipv6-any"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-ipv6-any"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "::/0"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_public_cidr" {
  name                = "nsg-rdp-public-cidr"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-public-cidr"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "198.51.100.0/24"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_whitelisted" {
  name                = "nsg-rdp-whitelisted"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-whitelisted"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "203.0.113.0/24"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_param_whitelisted" {
  name                = "nsg-rdp-param-whitelisted"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-param-whitelisted"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "192.0.2.0/24"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_private" {
  name                = "nsg-rdp-private"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-private"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "10.0.0.0/8"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_udp" {
  name                = "nsg-rdp-udp"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-udp"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Udp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_plural" {
  name                = "nsg-rdp-plural"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-plural"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["443", "3389"]
    source_address_prefixes    = ["10.1.0.0/16", "198.51.100.7/32"]
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_range" {
  name                = "nsg-rdp-range"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-range"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "3380-3390"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "range_misses_rdp" {
  name                = "nsg-range-misses-rdp"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-range-misses-rdp"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3390-3400"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_service_tag" {
  name                = "nsg-rdp-service-tag"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-service-tag"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "ssh_internet" {
  name                = "nsg-ssh-internet"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-ssh-internet"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "all_ports_internet" {
  name                = "nsg-all-ports-internet"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-all-ports-internet"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}
resource "azurerm_network_security_group" "rdp_shadowed" {
  name                = "nsg-rdp-shadowed"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "deny-rdp-everyone"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "allow-rdp-internet"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "rdp_outbound" {
  name                = "nsg-rdp-outbound"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-out"
    priority                   = 200
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

variable "jump_source" {
  type        = string
  description = "Source prefix of the jump host rule; no default, so it is unknown until apply."
}

resource "azurerm_network_security_group" "rdp_unresolved" {
  name                = "nsg-rdp-unresolved"
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp-jump"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = var.jump_source
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_rule" "standalone_rdp" {
  name                        = "allow-rdp-partners"
  priority                    = 300
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_ranges     = ["3389", "5986"]
  source_address_prefixes     = ["203.0.113.0/24", "198.51.100.0/24"]
  destination_address_prefix  = "*"
  resource_group_name         = "rg-network"
  network_security_group_name = "nsg-partners"
}

resource "azurerm_network_security_rule" "standalone_waived" {
  #checkov:skip=AUDITOR_NSG_RDP_EXPOSURE:break-glass rule, removed by the change ticket CHG-1234
  name                        = "allow-rdp-break-glass"
  priority                    = 310
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "3389"
  source_address_prefix       = "Internet"
  destination_address_prefix  = "*"
  resource_group_name         = "rg-network"
  network_security_group_name = "nsg-partners"
}

module "open_jump" {
  source = "./modules/nsg"
  name   = "nsg-open-jump"
  source_prefix = "Internet"
}

module "private_jump" {
  source = "./modules/nsg"
  name   = "nsg-private-jump"
  source_prefix = "172.16.0.0/12"
}
