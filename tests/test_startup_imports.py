"""Start-up pays only for what runs: no Azure service SDK is imported until a scan builds its client."""

from __future__ import annotations

import json
import subprocess
import sys

from auditor.collect.clients import COMPUTE_CLIENT, SdkClient

# What is loaded after the code runs, in a fresh interpreter: every azure.mgmt package but the shared core.
LOADED = (
    "import json, sys; {code}; "
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('azure.mgmt.') "
    "and not m.startswith('azure.mgmt.core'))))"
)


def _sdks_after(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(code=code)], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_command_line_and_every_collector_import_no_service_sdk() -> None:
    code = (
        "import auditor.cli, auditor.collect.scan, auditor.iac.cli; "
        "import auditor.collect.compute, auditor.collect.network, auditor.collect.sql, auditor.collect.backup"
    )
    assert _sdks_after(code) == []


def test_building_a_client_imports_its_sdk_only() -> None:
    code = (
        "from auditor.collect.clients import COMPUTE_CLIENT; "
        "from auditor.collect.credentials import StaticTokenCredential; "
        "COMPUTE_CLIENT(StaticTokenCredential('t'), 'sub', base_url='https://127.0.0.1:1')"
    )
    loaded = _sdks_after(code)
    assert loaded and all(m == "azure.mgmt.compute" or m.startswith("azure.mgmt.compute.") for m in loaded)


def test_a_named_client_is_a_stable_cache_key() -> None:
    # Sessions cache clients by factory: two names of the same class are one client.
    assert SdkClient("azure.mgmt.compute", "ComputeManagementClient") == COMPUTE_CLIENT
    assert hash(SdkClient("azure.mgmt.compute", "ComputeManagementClient")) == hash(COMPUTE_CLIENT)
