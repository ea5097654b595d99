"""Incentive tariff (TIP) of DM 414/2023 per plant and hour, and the energy it applies to.

The hourly tariff of a plant is (min(CAP; base + max(0; 180 - Pz)) + FC) x (1 - F) [EUR/MWh]
(REGULATION.md §4.1 [V]): base and CAP come from the plant's own power band (band 1 up to
200 kW, band 2 up to 600 kW, band 3 above), Pz is the hourly zonal price (it may be negative;
the variable part has no cap of its own), FC is the regional correction for photovoltaic plants
(§4.2 [V]) and F the capital-grant reduction (§4.3). Energy that goes to withdrawal points of
exempt consumers keeps the tariff before F; the exempt part of each hour is proportional to the
exempt consumers' share of the hour's withdrawals (§4.3, working reading [U]) and goes first to
the plants with a grant (exempt.py). The tariff is paid on the incentivised energy: the
attributed energy times the share of power not built under the Superbonus or the
renewable-energy obligation (§3.3, proportional reading [U]), kept exact and rounded only where
it is shown. Plants under the DM 2020 regime get a flat tariff.
This module holds the formulas; tariff.py applies them to the plants and hours of a settlement.
"""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc.money import checked_product, divide_round_half_up

IntArray = npt.NDArray[np.int64]


BANDS = (1, 2, 3)
"""The TIP power bands, numbered as the parameters tip_base_band1...3 and tip_cap_band1...3."""


def power_band(power_kw: Decimal, *, band1_max_kw: Decimal, band2_max_kw: Decimal) -> int:
    """Return the tariff band (1, 2 or 3) of a plant of `power_kw` [kW].

    Band 1 is up to `band1_max_kw` (200 kW), band 2 up to `band2_max_kw` (600 kW), band 3
    above; an edge belongs to the lower band: 200.0 kW is band 1, 600.0 kW band 2.
    Source: DM 414/2023 Allegato 1 (REGULATION.md §4.1 [V]).
    """
    if power_kw <= band1_max_kw:
        return 1
    if power_kw <= band2_max_kw:
        return 2
    return 3


def band_rate_units(
    *,
    zonal_price_units: IntArray,
    base_units: IntArray,
    cap_units: IntArray,
    reference_price_units: IntArray,
) -> IntArray:
    """Return min(CAP; base + max(0; reference - Pz)) for every hour [1e-4 EUR/MWh].

    All arguments are hourly arrays in rate units. Source: DM 414/2023 Allegato 1
    (REGULATION.md §4.1 [V]).
    """
    variable = np.maximum(reference_price_units - zonal_price_units, 0)
    return np.minimum(cap_units, base_units + variable)


def incentivised_energy_wh(
    attributed_wh: IntArray, *, incentivised_power_w: IntArray, power_w: IntArray
) -> IntArray:
    """Scale each plant's attributed energy [Wh] by its incentivised power / power [W / W].

    `attributed_wh` is plants x hours, the powers are per plant; each hour is rounded half up
    to the Wh, for display only (amounts and totals use the exact share). Source: GSE FAQ on
    the Superbonus and obligation share (REGULATION.md §3.3 [V]); the proportional form is a
    working reading [U].
    """
    kept_w = np.clip(incentivised_power_w, 0, power_w)
    scaled = checked_product(attributed_wh, kept_w[:, np.newaxis])
    return divide_round_half_up(scaled, power_w[:, np.newaxis]).astype(np.int64)


def incentive_money_units(
    *,
    tariff_money_units: int | Fraction,
    exempt_money_units: int | Fraction,
    reduction_f: Fraction,
) -> Fraction:
    """Return a plant's incentive [1e-10 EUR] from its sums of energy x tariff before F.

    `tariff_money_units` covers all its incentivised energy, `exempt_money_units` the part
    that serves exempt consumers, which is not reduced. Source: REGULATION.md §4.3.
    """
    reduced = Fraction(tariff_money_units - exempt_money_units) * (1 - reduction_f)
    return reduced + exempt_money_units


def rate_after_reduction_cent_per_mwh(rate_units: IntArray, reduction_f: Fraction) -> IntArray:
    """Return the tariff after F [cent/MWh], rounded half up, from rates before F [1e-4 EUR/MWh].

    This is the figure shown per plant and hour; amounts use the exact rates.
    """
    keep = 1 - reduction_f
    numerator = checked_product(rate_units, keep.numerator)
    return divide_round_half_up(numerator, 100 * keep.denominator).astype(np.int64)
