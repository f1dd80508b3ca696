# A small repository tree as a CI job sees it: the examples in examples/ gate it.

resource "azurerm_network_security_group" "web" {
  name                = "nsg-web"
  location            = "eastus"
  resource_group_name = "rg-web"

  security_rule {
    name                       = "allow-https"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "allow-rdp-anywhere"
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

resource "azurerm_key_vault" "app" {
  name                          = "kv-app"
  location                      = "eastus"
  resource_group_name           = "rg-web"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "standard"
  purge_protection_enabled      = true
  public_network_access_enabled = false
  enable_rbac_authorization     = true
}
