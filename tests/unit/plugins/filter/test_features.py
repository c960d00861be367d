# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""feature_registration_timeline: one row per registration event, read back as cells."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.azsim.vmss.plugins.filter.features import FilterModule, feature_registration_timeline
from ansible_collections.azsim.vmss.tests.unit._output import cells, split_row

EVENTS = [
    {"time": "2025-01-01T00:15:00Z", "type": "FeatureRegistered", "subject": "f", "state": "Registered"},
    {
        "time": "2025-01-01T00:15:00Z",
        "type": "ProviderRegistrationStarted",
        "subject": "p",
        "namespace": "Microsoft.Compute",
        "registrationState": "Registering",
    },
    {"time": "2025-01-01T00:17:00Z", "type": "ProviderRegistered", "subject": "p", "registrationState": "Registered"},
    {"time": "2025-01-01T00:20:00Z", "type": "SomethingElse", "subject": "x"},
]


def test_the_filters_by_name() -> None:
    assert set(FilterModule().filters()) == {"feature_registration_timeline"}


def test_one_row_per_event_with_the_state_it_reached() -> None:
    lines = feature_registration_timeline(EVENTS)
    assert [split_row(line) for line in lines] == [
        ["00:15", "FeatureRegistered", "Registered"],
        ["00:15", "ProviderRegistrationStarted", "Registering"],
        ["00:17", "ProviderRegistered", "Registered"],
        ["00:20", "SomethingElse"],
    ]
    assert len({cells(line)[2][0] for line in lines[:3]}) == 1


def test_events_without_a_type_are_refused_by_name() -> None:
    with pytest.raises(
        AnsibleFilterError, match="feature_registration_timeline takes the events list .* no key 'type'"
    ):
        feature_registration_timeline([{"time": "2025-01-01T00:15:00Z"}])
