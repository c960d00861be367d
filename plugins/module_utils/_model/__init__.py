# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated world as data: scale sets, instances, extensions, health, catalogue, features, faults.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""
