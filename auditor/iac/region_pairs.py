"""Azure's region pairs, which decide where a geo-redundant storage account keeps its secondary copy."""

from __future__ import annotations

from dataclasses import replace

from auditor.checks.recovery import GEO_SKU_MARKERS, BackupAccount
from auditor.records.storage import StorageAccount

# Azure's region pairs (Microsoft's "Azure cross-region replication pairings"): the secondary region of
# a geo-redundant account is its primary's pair, which the code cannot choose and so never states.
REGION_PAIRS: dict[str, str] = {
    "eastus": "westus",
    "westus": "eastus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "westus2": "westcentralus",
    "westcentralus": "westus2",
    "westus3": "eastus",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "francecentral": "francesouth",
    "germanywestcentral": "germanynorth",
    "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest",
    "norwayeast": "norwaywest",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "southeastasia": "eastasia",
    "eastasia": "southeastasia",
    "centralindia": "southindia",
    "southindia": "centralindia",
    "brazilsouth": "southcentralus",
    "southafricanorth": "southafricawest",
    "uaenorth": "uaecentral",
}


def declared_backup_account(account: StorageAccount) -> BackupAccount:
    """A storage account as code declares it, with the regions Azure will report for it: the declared
    location is its primary, and a geo-redundant SKU replicates to the primary's pair."""
    location = account.location.replace(" ", "").lower()
    geo = any(marker in (account.sku or "").upper() for marker in GEO_SKU_MARKERS)
    secondary = (REGION_PAIRS.get(location) or f"the region paired with {account.location}") if geo else None
    return BackupAccount(
        replace(account, primary_location=account.location or None, secondary_location=secondary if location else None)
    )
