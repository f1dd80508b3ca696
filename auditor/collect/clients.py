"""The azure-mgmt clients the collectors read through, each imported the first time a scan uses it.

Importing an SDK's client loads its operations and models (a tenth of a second or more each), and the
record builders in ``collect/`` are also used by the IaC gate and every command's start-up: naming the
client by module and class keeps those imports for the scans that send requests.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SdkClient:
    """An azure-mgmt client class by module and name; calling it builds the client, as the class would."""

    module: str
    name: str

    def __call__(self, credential: Any, *args: Any, **kwargs: Any) -> Any:
        """A client of this class (imported now if it was not yet)."""
        return getattr(importlib.import_module(self.module), self.name)(credential, *args, **kwargs)


AUTHORIZATION_CLIENT = SdkClient("azure.mgmt.authorization", "AuthorizationManagementClient")
BACKUP_CLIENT = SdkClient("azure.mgmt.recoveryservicesbackup", "RecoveryServicesBackupClient")
COMPUTE_CLIENT = SdkClient("azure.mgmt.compute", "ComputeManagementClient")
KEY_VAULT_CLIENT = SdkClient("azure.mgmt.keyvault", "KeyVaultManagementClient")
MONITOR_CLIENT = SdkClient("azure.mgmt.monitor", "MonitorManagementClient")
NETWORK_CLIENT = SdkClient("azure.mgmt.network", "NetworkManagementClient")
RECOVERY_SERVICES_CLIENT = SdkClient("azure.mgmt.recoveryservices", "RecoveryServicesClient")
SECURITY_CLIENT = SdkClient("azure.mgmt.security", "SecurityCenter")
SQL_CLIENT = SdkClient("azure.mgmt.sql", "SqlManagementClient")
SQL_VM_CLIENT = SdkClient("azure.mgmt.sqlvirtualmachine", "SqlVirtualMachineManagementClient")
STORAGE_CLIENT = SdkClient("azure.mgmt.storage", "StorageManagementClient")
SUBSCRIPTION_CLIENT = SdkClient("azure.mgmt.resource.subscriptions", "SubscriptionClient")
WEB_CLIENT = SdkClient("azure.mgmt.web", "WebSiteManagementClient")
