# KV-01, ENC-01, BAK-01, BAK-02 and BAK-04 cases.

resource "azurerm_key_vault" "kv_protected" {
  name                          = "kv-protected"
  location                      = "eastus"
  resource_group_name           = "rg-keys"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "premium"
  soft_delete_retention_days    = 90
  purge_protection_enabled      = true
  public_network_access_enabled = false
  enable_rbac_authorization     = true
}

resource "azurerm_key_vault" "kv_short_retention" {
  name                       = "kv-short-retention"
  location                   = "eastus"
  resource_group_name        = "rg-keys"
  tenant_id                  = "00000000-0000-0000-0000-000000000000"
  sku_name                   = "standard"
  soft_delete_retention_days = 7
  purge_protection_enabled   = false

  network_acls {
    bypass         = "AzureServices"
    default_action = "Deny"
  }
}

resource "azurerm_key_vault" "kv_waived" {
  #checkov:skip=AUDITOR_KEY_VAULT_PROTECTION:vault is being retired this quarter
  name                = "kv-waived"
  location            = "eastus"
  resource_group_name = "rg-keys"
  tenant_id           = "00000000-0000-0000-0000-000000000000"
  sku_name            = "standard"
}

resource "azurerm_disk_encryption_set" "des" {
  name                = "des-prod"
  location            = "eastus"
  resource_group_name = "rg-compute"
  key_vault_key_id    = "https://kv-protected.vault.azure.net/keys/disk-cmk/0123456789abcdef0123456789abcdef"

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_managed_disk" "disk_cmk" {
  name                   = "disk-cmk"
  location               = "eastus"
  resource_group_name    = "rg-compute"
  storage_account_type   = "Premium_LRS"
  create_option          = "Empty"
  disk_size_gb           = 128
  disk_encryption_set_id = azurerm_disk_encryption_set.des.id
}

resource "azurerm_managed_disk" "disk_ade" {
  name                 = "disk-ade"
  location             = "eastus"
  resource_group_name  = "rg-compute"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = 128
  os_type              = "Windows"

  encryption_settings {
    disk_encryption_key {
      secret_url      = "https://kv-protected.vault.azure.net/secrets/disk-ade/0123456789abcdef0123456789abcdef"
      source_vault_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-protected"
    }
  }
}

resource "azurerm_managed_disk" "disk_platform_key" {
  name                 = "disk-platform-key"
  location             = "eastus"
  resource_group_name  = "rg-compute"
  storage_account_type = "Standard_LRS"
  create_option        = "Empty"
  disk_size_gb         = 64
}

resource "azurerm_storage_account" "backup_ragrs" {
  name                     = "stbackupragrs"
  location                 = "eastus"
  resource_group_name      = "rg-backup"
  account_tier             = "Standard"
  account_replication_type = "RAGRS"
}

resource "azurerm_storage_account" "backup_lrs" {
  name                     = "stbackuplrs"
  location                 = "eastus"
  resource_group_name      = "rg-backup"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

resource "azurerm_storage_account" "backup_wrong_region" {
  name                     = "stbackupweu"
  location                 = "westeurope"
  resource_group_name      = "rg-backup"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_recovery_services_vault" "vault_default" {
  name                = "rsv-default"
  location            = "eastus"
  resource_group_name = "rg-backup"
  sku                 = "Standard"
}

resource "azurerm_recovery_services_vault" "vault_local" {
  name                = "rsv-local"
  location            = "eastus"
  resource_group_name = "rg-backup"
  sku                 = "Standard"
  storage_mode_type   = "LocallyRedundant"
}

resource "azurerm_backup_policy_vm" "daily_30" {
  name                = "vm-daily-30"
  resource_group_name = "rg-backup"
  recovery_vault_name = "rsv-default"

  backup {
    frequency = "Daily"
    time      = "23:00"
  }

  retention_daily {
    count = 30
  }
}

resource "azurerm_backup_policy_vm" "daily_7" {
  name                = "vm-daily-7"
  resource_group_name = "rg-backup"
  recovery_vault_name = "rsv-default"

  backup {
    frequency = "Daily"
    time      = "23:00"
  }

  retention_daily {
    count = 7
  }
}

resource "azurerm_backup_policy_vm" "weekly" {
  name                = "vm-weekly"
  resource_group_name = "rg-backup"
  recovery_vault_name = "rsv-default"

  backup {
    frequency = "Weekly"
    time      = "23:00"
    weekdays  = ["Sunday"]
  }

  retention_weekly {
    count    = 12
    weekdays = ["Sunday"]
  }
}

resource "azurerm_backup_policy_vm_workload" "sql" {
  name                = "sql-weekly-full"
  resource_group_name = "rg-backup"
  recovery_vault_name = "rsv-default"
  workload_type       = "SQLDataBase"

  settings {
    time_zone           = "UTC"
    compression_enabled = false
  }

  protection_policy {
    policy_type = "Full"

    backup {
      frequency = "Weekly"
      weekdays  = ["Sunday"]
      time      = "01:00"
    }

    retention_weekly {
      count    = 9
      weekdays = ["Sunday"]
    }
  }

  protection_policy {
    policy_type = "Differential"

    backup {
      frequency = "Weekly"
      weekdays  = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
      time      = "13:00"
    }

    simple_retention {
      count = 60
    }
  }

  protection_policy {
    policy_type = "Log"

    backup {
      frequency_in_minutes = 15
    }

    simple_retention {
      count = 35
    }
  }
}

resource "azurerm_mssql_database" "ltr_nine_weeks" {
  name      = "sqldb-orders"
  server_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-prod"

  long_term_retention_policy {
    weekly_retention = "P9W"
  }

  short_term_retention_policy {
    retention_days = 35
  }
}

resource "azurerm_mssql_database" "no_ltr" {
  name      = "sqldb-reports"
  server_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-prod"
}
