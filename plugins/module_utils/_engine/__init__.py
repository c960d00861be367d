# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time and runs: the virtual clock, its events, the rolling-upgrade engine and the platform.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""
