"""Known-ahead solar geometry for the solar feed: clear-sky irradiance on the array's plane.

The sun's position is a function of place and clock alone, so these covariates are known for
any future hour and may be fed to a forecaster alongside the calendar.

Site: PVDAQ system 50 is on NREL's campus in Golden, Colorado; pvanalytics' own QA example
for ``system_50_ac_power_2_full_DST.parquet`` uses latitude 39.7406, longitude -105.1775 and
states the array's ground truth as azimuth 158°, tilt 45°. The file's timestamps are labelled
UTC-7 but are really the Mountain wall clock *with* daylight saving (that is the point of the
file: it demonstrates DST-shift detection); the solar noon of the data jumps by an hour at each
DST change. We keep the wall clock (it is what the feed publishes) and compute the sun's
position for the true instant of each wall-clock hour (``America/Denver``), so the covariate
shifts exactly as the measurements do. The DST calendar is known years ahead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LATITUDE = 39.7406
LONGITUDE = -105.1775
ALTITUDE_M = 1_730.0  # Golden, CO (NREL South Table Mountain)
WALL_CLOCK_TZ = "America/Denver"
SURFACE_TILT = 45.0
SURFACE_AZIMUTH = 158.0
SUBSTEPS = 4  # sample each hour at its four 15-min midpoints, like the 15-min readings

GEOMETRY_COLUMNS = ("clearsky_poa", "sun_elevation")


def _instants(hours: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """True (UTC) instants of the 15-min midpoints inside each wall-clock hour."""
    offsets = (np.arange(SUBSTEPS) + 0.5) * (60 // SUBSTEPS)
    wall = pd.DatetimeIndex(
        (hours.values[:, None] + offsets.astype("timedelta64[m]")[None, :]).ravel()
    )
    # In the repeated autumn hour take standard time; the skipped spring hour moves forward.
    local = wall.tz_localize(WALL_CLOCK_TZ, ambiguous=False, nonexistent="shift_forward")
    return local.tz_convert("UTC")


def solar_geometry(hours: pd.DatetimeIndex) -> pd.DataFrame:
    """Hourly means of clear-sky plane-of-array irradiance (W/m²) and solar elevation (deg,
    floored at 0) for tz-naive wall-clock ``hours``. Both are 0 when the sun is down."""
    import pvlib

    when = _instants(pd.DatetimeIndex(hours))
    site = pvlib.location.Location(LATITUDE, LONGITUDE, altitude=ALTITUDE_M, tz="UTC")
    sun = site.get_solarposition(when)
    # Haurwitz needs no turbidity table; its GHI is split with the DIRINT-free Erbs model.
    ghi = pvlib.clearsky.haurwitz(sun["apparent_zenith"])["ghi"]
    parts = pvlib.irradiance.erbs(ghi, sun["apparent_zenith"], when)
    poa = pvlib.irradiance.get_total_irradiance(
        SURFACE_TILT,
        SURFACE_AZIMUTH,
        sun["apparent_zenith"],
        sun["azimuth"],
        dni=parts["dni"],
        ghi=ghi,
        dhi=parts["dhi"],
    )["poa_global"]
    poa_v = np.nan_to_num(poa.to_numpy(dtype="float64"), nan=0.0).clip(min=0.0)
    elev = sun["apparent_elevation"].to_numpy(dtype="float64").clip(min=0.0)
    poa_v = np.where(elev > 0, poa_v, 0.0)
    return pd.DataFrame(
        {
            "clearsky_poa": poa_v.reshape(-1, SUBSTEPS).mean(axis=1),
            "sun_elevation": elev.reshape(-1, SUBSTEPS).mean(axis=1),
        },
        index=hours,
    )
