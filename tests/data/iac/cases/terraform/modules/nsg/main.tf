variable "name" {
  type = string
}

variable "source_prefix" {
  type = string
}

resource "azurerm_network_security_group" "this" {
  name                = var.name
  location            = "eastus"
  resource_group_name = "rg-network"

  security_rule {
    name                       = "allow-rdp"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = var.source_prefix
    destination_address_prefix = "*"
  }
}
