# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input errors of the collection's filter plugins. PRIVATE to the collection: no stable interface.

A filter given something other than what it documents (a dict without the key it reads, a string where a list
belongs) fails with an AnsibleFilterError that names the filter, what it takes and what was missing or wrong,
never with a Python traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ansible.errors import AnsibleFilterError

F = TypeVar("F", bound=Callable[..., Any])


def expects(what: str) -> Callable[[F], F]:
    """Decorate a filter taking WHAT: a KeyError, IndexError, TypeError or AttributeError raised on its input
    becomes an AnsibleFilterError naming the filter, WHAT, and the missing key or the error."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except AnsibleFilterError:
                raise
            except KeyError as exc:
                raise AnsibleFilterError(
                    f"azsim.vmss.{func.__name__} takes {what}; the input has no key {exc.args[0]!r}"
                ) from exc
            except (IndexError, TypeError, AttributeError, ValueError) as exc:
                raise AnsibleFilterError(f"azsim.vmss.{func.__name__} takes {what}; {exc}") from exc

        return cast(F, wrapper)

    return decorate
