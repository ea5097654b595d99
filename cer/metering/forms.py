from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.metering.models import DEVICE_NAME_VALIDATOR, Device, DeviceKind, ReadingSource
from cer.metering.precedence import DEFAULT_ORDER, parse_order
from cer.metering.reasons import GROUP_CHOICES
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


class SourceOrderForm(forms.Form):
    """The community's reading-source precedence: four positions, each source once."""

    POSITIONS = 4

    def __init__(self, *args, order: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for position in range(1, self.POSITIONS + 1):
            self.fields[f"position_{position}"] = forms.ChoiceField(
                label=_("Position %(position)d") % {"position": position},
                choices=[(code, ReadingSource(code).label) for code in DEFAULT_ORDER],
                initial=order[position - 1],
            )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        order = [cleaned.get(f"position_{p}") for p in range(1, self.POSITIONS + 1)]
        if None in order:
            return cleaned
        # A ValidationError here names the problem (a source twice) for the whole form.
        cleaned["order"] = parse_order(",".join(str(code) for code in order))
        return cleaned


class _DeviceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Device) -> str:  # type: ignore[override]
        return f"{obj.connection_point.pod} / {obj.name}"


class RejectedFilterForm(forms.Form):
    """Narrow the rejected messages to one device and one kind of reason (GET parameters)."""

    device = _DeviceChoiceField(queryset=Device.objects.none(), label=_("Device"), required=False)
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("Any reason")), *GROUP_CHOICES], required=False
    )

    def __init__(self, *args, community, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        device_field = self.fields["device"]
        assert isinstance(device_field, forms.ModelChoiceField)
        device_field.queryset = Device.objects.filter(
            connection_point__configuration__community=community
        ).select_related("connection_point")


class MeterReplacementForm(forms.Form):
    """When a device's meter was replaced, and the new meter's start readings [Wh]."""

    replaced_at = forms.DateTimeField(
        label=_("Replaced at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Local time (Europe/Rome)."),
    )
    withdrawn_start_wh = forms.IntegerField(
        label=_("New meter's withdrawn counter [Wh]"), min_value=0, required=False
    )
    injected_start_wh = forms.IntegerField(
        label=_("New meter's injected counter [Wh]"), min_value=0, required=False
    )
