"""ARERA valorisation contribution (TIAD) on the self-consumed energy of a configuration.

The formula is a dated parameter per configuration type (`valorisation_formula`, REGULATION.md
§6.1 [C], open point §13.1):

* "transmission": TRAS_E x E (CER, CEC and remote self-consumers by default);
* "transmission_distribution": (TRAS_E + BTAU) x E;
* "transmission_distribution_losses": (TRAS_E + BTAU) x E + c_PR x Pz x E (a group of
  self-consumers in one building, AUC, by default).

E is the shared (self-consumed) energy of every hour, existing plants, plants above 1 MW and
Superbonus shares included. The avoided-losses coefficient c_PR depends on the voltage level of
the points (`loss_factor` for LV, `loss_factor_mv` for MV; 318/2020 values, §6.1 [U]); which
energy each coefficient applies to is unverified, and the working reading splits each hour's
shared energy among the withdrawal points in proportion to their withdrawals (the project's
attribution to withdrawal points, §14), so c_PR,h = sum over levels of c_v x W_v,h / W_h. A
high-voltage point takes the MV coefficient, with a warning.
Energy [Wh] times rates [1e-4 EUR/MWh] is summed exactly; with points of several levels the
losses term sums one quotient per hour (the hour's withdrawal as denominator) taken to 1e-20 EUR
(money.sum_of_quotients), and is rounded to the cent only where it is shown.
"""

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc.money import checked_product, exact_sum, money_units_to_eur, sum_of_quotients
from cercalc.params import Parameters

IntArray = npt.NDArray[np.int64]

WITH_DISTRIBUTION = ("transmission_distribution", "transmission_distribution_losses")
WITH_LOSSES = ("transmission_distribution_losses",)


def valorisation_eur(
    *,
    configuration_type: str,
    shared_wh: IntArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour_wh: IntArray,
    voltage_levels: Sequence[str],
    hour_start_utc_s: IntArray,
    zonal_price_units: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> Fraction:
    """Return the valorisation contribution [EUR, exact] of the hourly shared energy [Wh].

    `withdrawn_wh` is consumers x hours [Wh] with `voltage_levels` one per consumer ("LV",
    "MV", "HV") and `withdrawn_by_hour_wh` its column sums; they are read only for the losses
    term. `zonal_price_units` are hourly zonal prices [1e-4 EUR/MWh].
    Source: ARERA 727/2022 TIAD art. 7 as read in REGULATION.md §6.1.
    """
    used = shared_wh > 0
    total = Fraction(0)
    for mask, formulas in parameters.hourly_segments(
        "valorisation_formula", hour_start_utc_s, warnings, used
    ):
        formula = formulas[configuration_type]
        hours = hour_start_utc_s[mask]
        shared = shared_wh[mask]
        unit_units = parameters.hourly_rate_units(
            "valorisation_eur_per_mwh", hours, warnings, used[mask]
        )
        if formula in WITH_DISTRIBUTION:
            unit_units = unit_units + parameters.hourly_rate_units(
                "btau_eur_per_mwh", hours, warnings, used[mask]
            )
        total += exact_sum(checked_product(shared, unit_units))
        if formula in WITH_LOSSES:
            total += _losses_money_units(
                mask=mask,
                shared_wh=shared_wh,
                withdrawn_wh=withdrawn_wh,
                withdrawn_by_hour_wh=withdrawn_by_hour_wh,
                voltage_levels=voltage_levels,
                hour_start_utc_s=hour_start_utc_s,
                zonal_price_units=zonal_price_units,
                parameters=parameters,
                warnings=warnings,
            )
    return money_units_to_eur(total)


def _losses_money_units(
    *,
    mask: npt.NDArray[np.bool_],
    shared_wh: IntArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour_wh: IntArray,
    voltage_levels: Sequence[str],
    hour_start_utc_s: IntArray,
    zonal_price_units: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> Fraction:
    """Return sum over hours of c_PR,h x Pz,h x E_h [1e-10 EUR, exact] for the masked hours."""
    hours = np.flatnonzero(mask & (shared_wh > 0))
    if hours.size == 0:
        return Fraction(0)
    levels = np.array(voltage_levels, dtype=object)
    upper = np.isin(levels, ("MV", "HV"))
    price_energy = checked_product(shared_wh[hours], zonal_price_units[hours])
    total = Fraction(0)
    shown: list[str] = []
    for name, level_rows in (("loss_factor", ~upper), ("loss_factor_mv", upper)):
        if not level_rows.any():
            continue
        level_withdrawn = (
            withdrawn_wh[level_rows][:, hours].sum(axis=0)
            if level_rows.size and not level_rows.all()
            else withdrawn_by_hour_wh[hours]
        )
        segments = parameters.hourly_segments(name, hour_start_utc_s[hours], warnings)
        for segment, factor in segments:
            if level_rows.all():
                share = Fraction(exact_sum(price_energy[segment]))
            else:
                # Pz,h x E_h x W_level,h / W_h: one quotient per hour, to 1e-20 EUR.
                numerators = checked_product(price_energy[segment], level_withdrawn[segment])
                share = sum_of_quotients(
                    numerators.astype(object).tolist(),
                    np.maximum(withdrawn_by_hour_wh[hours][segment], 1).astype(object).tolist(),
                )
            total += Fraction(factor) * share
            shown.append(f"{factor} for {'LV' if name == 'loss_factor' else 'MV'} points")
    warnings.append(
        "The avoided-losses term of the valorisation applies the loss factor of each "
        f"withdrawal point's voltage level ({', '.join(shown)}, the values of ARERA 318/2020) "
        "to the shared energy in proportion to the point's withdrawals, at the hourly zonal "
        "price, a working reading (REGULATION.md §6.1 [U], parameters loss_factor and "
        "loss_factor_mv)."
    )
    if "HV" in voltage_levels:
        warnings.append(
            "High-voltage withdrawal points take the medium-voltage loss factor: ARERA 318/2020 "
            "gives values for LV and MV only (REGULATION.md §6.1 [U])."
        )
    return total
