"""Where orders come from: a few real cities per state and each state's time zone.

States, names and population weights come from `warehouse.geo`; this module only adds what the
generator needs on top (cities and UTC offsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from retail_insights.generator.sampling import table

from warehouse.geo import STATES

# Largest cities first; the first city of a state gets the most orders.
_CITIES = """
AL Birmingham;Montgomery;Huntsville;Mobile|AK Anchorage;Fairbanks;Juneau
AZ Phoenix;Tucson;Mesa;Scottsdale|AR Little Rock;Fayetteville;Fort Smith
CA Los Angeles;San Diego;San Jose;San Francisco;Sacramento|CO Denver;Colorado Springs;Aurora;Boulder
CT Bridgeport;New Haven;Hartford;Stamford|DE Wilmington;Dover;Newark
DC Washington|FL Jacksonville;Miami;Tampa;Orlando|GA Atlanta;Augusta;Savannah;Athens
HI Honolulu;Hilo;Kailua|ID Boise;Meridian;Nampa|IL Chicago;Aurora;Naperville;Springfield
IN Indianapolis;Fort Wayne;Evansville|IA Des Moines;Cedar Rapids;Davenport
KS Wichita;Overland Park;Kansas City;Topeka|KY Louisville;Lexington;Bowling Green
LA New Orleans;Baton Rouge;Shreveport;Lafayette|ME Portland;Lewiston;Bangor
MD Baltimore;Columbia;Germantown;Frederick|MA Boston;Worcester;Springfield;Cambridge
MI Detroit;Grand Rapids;Warren;Ann Arbor|MN Minneapolis;Saint Paul;Rochester;Duluth
MS Jackson;Gulfport;Southaven|MO Kansas City;Saint Louis;Springfield;Columbia
MT Billings;Missoula;Great Falls;Bozeman|NE Omaha;Lincoln;Bellevue
NV Las Vegas;Henderson;Reno|NH Manchester;Nashua;Concord|NJ Newark;Jersey City;Paterson;Trenton
NM Albuquerque;Las Cruces;Santa Fe|NY New York;Buffalo;Rochester;Yonkers;Syracuse
NC Charlotte;Raleigh;Greensboro;Durham|ND Fargo;Bismarck;Grand Forks
OH Columbus;Cleveland;Cincinnati;Toledo|OK Oklahoma City;Tulsa;Norman
OR Portland;Salem;Eugene;Bend|PA Philadelphia;Pittsburgh;Allentown;Erie
RI Providence;Warwick;Cranston|SC Charleston;Columbia;Greenville
SD Sioux Falls;Rapid City;Aberdeen|TN Nashville;Memphis;Knoxville;Chattanooga
TX Houston;San Antonio;Dallas;Austin;Fort Worth|UT Salt Lake City;West Valley City;Provo
VT Burlington;South Burlington;Rutland|VA Virginia Beach;Norfolk;Chesapeake;Richmond
WA Seattle;Spokane;Tacoma;Vancouver|WV Charleston;Huntington;Morgantown
WI Milwaukee;Madison;Green Bay|WY Cheyenne;Casper;Laramie
"""

# Standard UTC offset in hours; a state spanning zones gets the zone most people live in.
_ZONES = {
    -5: "CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV",
    -6: "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI",
    -7: "AZ CO ID MT NM UT WY",
    -8: "CA NV OR WA",
    -9: "AK",
    -10: "HI",
}
_NO_DST = ("AZ", "HI")


@dataclass(frozen=True)
class Places:
    """Aligned arrays over the 51 states (index = position in `warehouse.geo.STATES`)."""

    state_code: np.ndarray  # str
    state_name: np.ndarray  # str
    state_table: np.ndarray  # lookup table of state indices, by population
    std_offset_min: np.ndarray  # int64, standard-time UTC offset in minutes
    observes_dst: np.ndarray  # bool
    city_name: np.ndarray  # str, all cities
    city_state: np.ndarray  # int64, state index of each city
    city_table: np.ndarray  # (states, RESOLUTION): a city of the state, biggest most often


@lru_cache(maxsize=1)
def places() -> Places:
    codes = list(STATES)
    cities: dict[str, list[str]] = {}
    for cell in _CITIES.replace("\n", "|").split("|"):
        if cell.strip():
            code, names = cell.strip().split(" ", 1)
            cities[code] = names.split(";")
    offsets = {code: hours for hours, line in _ZONES.items() for code in line.split()}

    names, owner, lookups = [], [], []
    for i, code in enumerate(codes):
        weights = np.arange(len(cities[code]), 0, -1, dtype=np.float64) ** 1.5
        lookups.append(len(names) + table(weights))
        names += cities[code]
        owner += [i] * len(cities[code])
    population = np.array([STATES[c].population_k for c in codes], dtype=np.float64)
    return Places(
        state_code=np.array(codes),
        state_name=np.array([STATES[c].name for c in codes]),
        state_table=table(population),
        std_offset_min=np.array([offsets[c] * 60 for c in codes], dtype=np.int64),
        observes_dst=np.array([c not in _NO_DST for c in codes]),
        city_name=np.array(names),
        city_state=np.array(owner, dtype=np.int64),
        city_table=np.stack(lookups),
    )


def utc_offset_minutes(state: np.ndarray, local_std_s: np.ndarray) -> np.ndarray:
    """UTC offset (minutes) in force for each order, given its local standard-time clock in seconds.

    US daylight time runs from the second Sunday of March, 02:00, to the first Sunday of
    November, 02:00 daylight (= 01:00 standard), except in Arizona and Hawaii.
    """
    p = places()
    day = local_std_s // 86_400
    years = day.astype("datetime64[D]").astype("datetime64[Y]")
    begin = _nth_sunday(years, month=3, nth=2) * 86_400 + 2 * 3600
    end = _nth_sunday(years, month=11, nth=1) * 86_400 + 1 * 3600
    summer = (local_std_s >= begin) & (local_std_s < end) & p.observes_dst[state]
    return p.std_offset_min[state] + 60 * summer


def _nth_sunday(years: np.ndarray, *, month: int, nth: int) -> np.ndarray:
    first = (years.astype("datetime64[M]") + (month - 1)).astype("datetime64[D]").astype(np.int64)
    weekday = (first + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return first + (6 - weekday) % 7 + 7 * (nth - 1)
