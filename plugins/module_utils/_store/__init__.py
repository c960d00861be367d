# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persistence: the SQLite store, one transaction per call.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""
