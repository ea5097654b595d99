from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.metering.models import DEVICE_NAME_VALIDATOR, DeviceKind
from cer.plants.models import ConnectionPoint


class DeviceForm(forms.Form):
    """Register a device on one of the community's connection points."""

    point = forms.ModelChoiceField(
        queryset=ConnectionPoint.objects.none(), label=_("Connection point (POD)")
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=40,
        validators=[DEVICE_NAME_VALIDATOR],
        help_text=_("Lower-case letters, digits, '-' or '_'; it becomes part of the MQTT topic."),
    )
    kind = forms.ChoiceField(label=_("Payload format"), choices=DeviceKind.choices)
    serial_number = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    meter_channel = forms.IntegerField(
        label=_("Meter channel"),
        min_value=0,
        initial=0,
        help_text=_("Shelly Pro EM only: the channel measuring the grid connection."),
    )
    counter_rollover_wh = forms.IntegerField(
        label=_("Counter rollover [Wh]"), min_value=1, required=False
    )

    def __init__(self, *args, community, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        point_field = self.fields["point"]
        assert isinstance(point_field, forms.ModelChoiceField)
        point_field.queryset = ConnectionPoint.objects.filter(configuration__community=community)
