# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the optional third-party libraries are installed, found without importing them.

Kept apart from ``_model.schema`` (which uses jsonschema) so that the glue can refuse a host without
jsonschema while a module that validates nothing never compiles the schemas: AnsiballZ runs modules
from a zip, where every imported file is compiled from source on each call.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import importlib.util

HAS_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None
JSONSCHEMA_IMPORT_ERROR: str | None = None if HAS_JSONSCHEMA else "No module named 'jsonschema'"
