# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every kind of event the virtual clock can run, and the function that runs it.

One explicit table rather than registration on import, so that what moves when the clock moves can
be read in one place.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._clock import Handler

HANDLERS: dict[str, Handler] = {}
