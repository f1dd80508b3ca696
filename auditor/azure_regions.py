"""The names Azure Resource Manager gives its regions (``location`` values), to validate region parameters.

Taken from ``az account list-locations --query "[].name"`` (public cloud, physical and logical regions),
plus the sovereign clouds' regions (Azure Government, Azure operated by 21Vianet).
"""

from __future__ import annotations

AZURE_REGIONS = frozenset(
    {
        # Americas
        "eastus", "eastus2", "eastus3", "centralus", "northcentralus", "southcentralus", "westcentralus",
        "westus", "westus2", "westus3", "canadacentral", "canadaeast", "brazilsouth", "brazilsoutheast",
        "mexicocentral", "chilecentral", "eastusstg", "southcentralusstg", "eastus2euap", "centraluseuap",
        # Europe
        "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth", "germanywestcentral",
        "germanynorth", "norwayeast", "norwaywest", "switzerlandnorth", "switzerlandwest", "swedencentral",
        "swedensouth", "polandcentral", "italynorth", "spaincentral", "austriaeast", "belgiumcentral",
        "denmarkeast", "finlandcentral", "greececentral",
        # Asia Pacific
        "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth", "australiaeast",
        "australiasoutheast", "australiacentral", "australiacentral2", "centralindia", "southindia",
        "westindia", "jioindiawest", "jioindiacentral", "newzealandnorth", "indonesiacentral", "malaysiawest",
        "taiwannorth", "taiwannorthwest",
        # Middle East and Africa
        "uaenorth", "uaecentral", "qatarcentral", "israelcentral", "saudiarabiacentral", "southafricanorth",
        "southafricawest", "kuwaitcentral",
        # Logical (geography-level) locations
        "asia", "asiapacific", "australia", "brazil", "canada", "europe", "france", "germany", "global",
        "india", "israel", "italy", "japan", "korea", "mexico", "newzealand", "norway", "poland", "qatar",
        "singapore", "southafrica", "spain", "sweden", "switzerland", "uae", "uk", "unitedstates",
        "unitedstateseuap",
        # Azure Government
        "usgovvirginia", "usgovarizona", "usgovtexas", "usgoviowa", "usdodeast", "usdodcentral",
        # Azure operated by 21Vianet
        "chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3",
    }
)  # fmt: skip
