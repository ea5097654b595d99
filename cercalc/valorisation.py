"""ARERA valorisation contribution (TIAD) on the self-consumed energy of a configuration.

For CER, CEC and remote self-consumers (AID) the contribution is TRAS_E x E: the variable part
of the LV transmission tariff times the shared (self-consumed) energy of every hour, existing
plants, plants above 1 MW and Superbonus shares included (REGULATION.md §6.1 [C]). For a group
of self-consumers in one building (AUC) it is (TRAS_E + BTAU) x E plus the avoided losses
c_PR x Pz x E, hour by hour (§6.1 [C]; c_PR and the energy it applies to are [U]).
Energy [Wh] times rates [1e-4 EUR/MWh] is summed exactly; c_PR multiplies the exact sum.
"""

from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc.money import checked_product, exact_sum, money_units_to_eur
from cercalc.params import Parameters

IntArray = npt.NDArray[np.int64]

IN_BUILDING_TYPES = ("AUC",)


def valorisation_eur(
    *,
    configuration_type: str,
    shared_wh: IntArray,
    hour_start_utc_s: IntArray,
    zonal_price_units: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> Fraction:
    """Return the valorisation contribution [EUR, exact] of the hourly shared energy [Wh].

    `zonal_price_units` are hourly zonal prices [1e-4 EUR/MWh] (only used for AUC losses).
    Source: ARERA 727/2022 TIAD art. 7 as read in REGULATION.md §6.1.
    """
    used = shared_wh > 0
    unit_units = parameters.hourly_rate_units(
        "valorisation_eur_per_mwh", hour_start_utc_s, warnings, used
    )
    if configuration_type in IN_BUILDING_TYPES:
        unit_units = unit_units + parameters.hourly_rate_units(
            "btau_eur_per_mwh", hour_start_utc_s, warnings, used
        )
    total = Fraction(exact_sum(checked_product(shared_wh, unit_units)))
    if configuration_type in IN_BUILDING_TYPES:
        segments = parameters.hourly_segments("loss_factor", hour_start_utc_s, warnings, used)
        for mask, loss_factor in segments:
            price_energy = exact_sum(checked_product(shared_wh[mask], zonal_price_units[mask]))
            total += Fraction(loss_factor) * price_energy
        warnings.append(
            "The avoided-losses term of the AUC valorisation applies the loss factor "
            f"({', '.join(str(value) for _, value in segments)}, the LV value of ARERA 318/2020) "
            "to all shared energy at the hourly zonal price, a working reading "
            "(REGULATION.md §6.1 [U], parameter loss_factor)."
        )
    return money_units_to_eur(total)
