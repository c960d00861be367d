# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform images automatic OS image upgrade supports (azure-behaviour §2, rule 2), as data.

Two sources, both kept so that a playbook written against either list keeps working:

``SEED``
    The table of the seed document (Azure's page as first published, in Chinese). Its "publisher"
    column gives display names; here they are the publisher ids Azure's image references use
    (``Microsoft Corporation`` is ``MicrosoftWindowsServer``, ``Rogue Wave (OpenLogic)`` is
    ``OpenLogic``), and the machine-translated SKU ``Datacenter-核心-1903-with 容器-smalldisk`` is
    ``Datacenter-Core-1903-with-Containers-smalldisk``.
``CURRENT``
    Azure's current table (MicrosoftDocs/azure-compute-docs, virtual-machine-scale-sets-automatic-upgrade.md):
    Ubuntu 20.04 and 22.04, CBL-Mariner and Azure Linux, SQL Server, Windows Server 2012 R2 to 2022.
    Azure's table lists only the arm64 SKU of Ubuntu 24.04; the simulator adds ``server`` and
    ``server-gen1`` of ``ubuntu-24_04-lts`` (``SIMULATOR``) because azure-behaviour §2 names Ubuntu
    24.04 as supported and those are the 24.04 SKUs scale sets use.

Azure compares publisher, offer and SKU without regard to case; so does ``is_supported``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

# (publisher, offer, sku)
SEED: tuple[tuple[str, str, str], ...] = (
    ("Canonical", "UbuntuServer", "16.04-LTS"),
    ("Canonical", "UbuntuServer", "18.04-LTS"),
    ("OpenLogic", "CentOS", "7.5"),
    ("CoreOS", "CoreOS", "Stable"),
    ("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-Smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-with-Containers"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-Smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-with-Containers"),
    ("MicrosoftWindowsServer", "WindowsServer", "Datacenter-Core-1903-with-Containers-smalldisk"),
)

CURRENT: tuple[tuple[str, str, str], ...] = (
    ("Canonical", "0001-com-ubuntu-server-focal", "20_04-LTS"),
    ("Canonical", "0001-com-ubuntu-server-focal", "20_04-LTS-Gen2"),
    ("Canonical", "0001-com-ubuntu-server-focal", "20_04-LTS-arm64"),
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-LTS"),
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-LTS-arm64"),
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-LTS-Gen2"),
    ("Canonical", "0001-com-ubuntu-pro-microsoft", "pro-fips-20_04-Gen2"),
    ("Canonical", "ubuntu-24_04-lts", "server-arm64"),
    ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2"),
    ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2-arm64"),
    ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2-Gen2"),
    ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2-fips"),
    ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2-Gen2-fips"),
    ("MicrosoftCblMariner", "Azure-Linux", "azure-linux-Gen2"),
    ("MicrosoftCblMariner", "Azure-Linux", "azure-linux-3"),
    ("MicrosoftCblMariner", "Azure-Linux", "azure-linux-arm64"),
    ("MicrosoftSqlServer", "SQL2017-ws2019", "enterprise"),
    ("MicrosoftSqlServer", "SQL2019-ws2022", "enterprise"),
    ("MicrosoftSqlServer", "SQL2022-ws2022", "enterprise-Gen2"),
    ("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-gensecond"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-gs"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-with-Containers"),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter-with-containers-gs"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-Core"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-Core-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-Core-with-Containers"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-gensecond"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-gs"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-with-Containers"),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter-with-Containers-gs"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-azure-edition"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-azure-edition-core"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-azure-edition-core-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-core"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-core-smalldisk"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-g2"),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter-smalldisk-g2"),
    ("MicrosoftWindowsServer", "WindowsServer", "Datacenter-core-20h2-with-containers-smalldisk-gs"),
)

SIMULATOR: tuple[tuple[str, str, str], ...] = (
    ("Canonical", "ubuntu-24_04-lts", "server"),
    ("Canonical", "ubuntu-24_04-lts", "server-gen1"),
)

SUPPORTED: tuple[tuple[str, str, str], ...] = SEED + CURRENT + SIMULATOR

_KEYS = frozenset((p.lower(), o.lower(), s.lower()) for p, o, s in SUPPORTED)


def is_supported(publisher: str, offer: str, sku: str) -> bool:
    """Whether automatic OS image upgrade supports this platform image (any version)."""
    return (publisher.lower(), offer.lower(), sku.lower()) in _KEYS


def supported_offers() -> list[str]:
    """``publisher:offer`` pairs, sorted, for error messages that say what is allowed."""
    return sorted({f"{p}:{o}" for p, o, _s in SUPPORTED}, key=str.lower)
