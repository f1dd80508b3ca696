// The Bicep declaring resources of tests/test_parity_recovery.py's case tables, with the same names.

resource vault 'Microsoft.RecoveryServices/vaults@2023-04-01' = {
  name: 'rsv-parity-local'
  location: 'eastus'
  sku: { name: 'RS0', tier: 'Standard' }
  properties: {
    redundancySettings: { standardTierStorageRedundancy: 'LocallyRedundant', crossRegionRestore: 'Disabled' }
  }
}

resource daily 'Microsoft.RecoveryServices/vaults/backupPolicies@2023-04-01' = {
  parent: vault
  name: 'pol-daily-7'
  properties: {
    backupManagementType: 'AzureIaasVM'
    instantRpRetentionRangeInDays: 2
    schedulePolicy: {
      schedulePolicyType: 'SimpleSchedulePolicy'
      scheduleRunFrequency: 'Daily'
      scheduleRunTimes: [ '2026-01-18T23:00:00Z' ]
    }
    retentionPolicy: {
      retentionPolicyType: 'LongTermRetentionPolicy'
      dailySchedule: {
        retentionTimes: [ '2026-01-18T23:00:00Z' ]
        retentionDuration: { count: 7, durationType: 'Days' }
      }
    }
    timeZone: 'UTC'
  }
}

resource sqlvm 'Microsoft.SqlVirtualMachine/sqlVirtualMachines@2023-10-01' = {
  name: 'sqlvm-auto-as-written'
  location: 'eastus'
  properties: {
    virtualMachineResourceId: resourceId('Microsoft.Compute/virtualMachines', 'sqlvm-parity')
    sqlServerLicenseType: 'PAYG'
    autoBackupSettings: {
      enable: true
      enableEncryption: true
      retentionPeriod: 60
      storageAccountUrl: 'https://stparitybackup.blob.core.windows.net/'
      backupSystemDbs: true
      backupScheduleType: 'Manual'
      fullBackupFrequency: 'Weekly'
      daysOfWeek: [ 'Sunday' ]
      fullBackupStartTime: 1
      fullBackupWindowHours: 4
      logBackupFrequency: 5
    }
  }
}

resource ltr 'Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies@2023-05-01-preview' = {
  name: 'sql-parity/sqldb-p9w/default'
  properties: { weeklyRetention: 'P9W' }
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stparityragrs'
  location: 'eastus'
  kind: 'StorageV2'
  sku: { name: 'Standard_RAGRS' }
  properties: { supportsHttpsTrafficOnly: true }
}
