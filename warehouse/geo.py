"""US geography reference: states with USPS codes, Census regions, coasts and population weights.

Populations are 2020 Census counts in thousands, used only to weight synthetic data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class State:
    code: str
    name: str
    region: str
    population_k: int


_ROWS = """
AL Alabama South 5024|AK Alaska West 733|AZ Arizona West 7152|AR Arkansas South 3012
CA California West 39538|CO Colorado West 5774|CT Connecticut Northeast 3606|DE Delaware South 990
DC District_of_Columbia South 690|FL Florida South 21538|GA Georgia South 10712|HI Hawaii West 1455
ID Idaho West 1839|IL Illinois Midwest 12813|IN Indiana Midwest 6786|IA Iowa Midwest 3190
KS Kansas Midwest 2938|KY Kentucky South 4506|LA Louisiana South 4658|ME Maine Northeast 1362
MD Maryland South 6177|MA Massachusetts Northeast 7030|MI Michigan Midwest 10077|MN Minnesota Midwest 5706
MS Mississippi South 2961|MO Missouri Midwest 6154|MT Montana West 1084|NE Nebraska Midwest 1962
NV Nevada West 3105|NH New_Hampshire Northeast 1378|NJ New_Jersey Northeast 9289|NM New_Mexico West 2118
NY New_York Northeast 20201|NC North_Carolina South 10439|ND North_Dakota Midwest 779|OH Ohio Midwest 11799
OK Oklahoma South 3959|OR Oregon West 4237|PA Pennsylvania Northeast 13003|RI Rhode_Island Northeast 1097
SC South_Carolina South 5118|SD South_Dakota Midwest 887|TN Tennessee South 6911|TX Texas South 29146
UT Utah West 3272|VT Vermont Northeast 643|VA Virginia South 8631|WA Washington West 7705
WV West_Virginia South 1794|WI Wisconsin Midwest 5894|WY Wyoming West 577
"""


def _cells(table: str) -> list[list[str]]:
    """The words of each "|"- or line-separated cell of a table above ("_" stands for a space in a name)."""
    return [cell.split() for cell in table.replace("\n", "|").split("|") if cell.strip()]


STATES: dict[str, State] = {code: State(code, name.replace("_", " "), region, int(pop))
                            for code, name, region, pop in _cells(_ROWS)}

# What a state's people are called ("Texans bought ..."): the customers of that state. Names shared with
# another place or unsure in use (Washingtonians: the state or DC) are left out.
_DEMONYMS = """
AL Alabamians|AK Alaskans|AZ Arizonans|AR Arkansans|CA Californians|CO Coloradans|DE Delawareans
FL Floridians|GA Georgians|HI Hawaiians|ID Idahoans|IL Illinoisans|IN Indianans,Hoosiers|IA Iowans
KS Kansans|KY Kentuckians|LA Louisianans,Louisianians|ME Mainers|MD Marylanders|MI Michiganders
MN Minnesotans|MS Mississippians|MO Missourians|MT Montanans|NE Nebraskans|NV Nevadans
NH New_Hampshirites|NJ New_Jerseyans|NM New_Mexicans|NY New_Yorkers|NC North_Carolinians
ND North_Dakotans|OH Ohioans|OK Oklahomans|OR Oregonians|PA Pennsylvanians|RI Rhode_Islanders
SC South_Carolinians|SD South_Dakotans|TN Tennesseans|TX Texans|UT Utahns|VT Vermonters|VA Virginians
WV West_Virginians|WI Wisconsinites|WY Wyomingites
"""

DEMONYMS: dict[str, tuple[str, ...]] = {code: tuple(n.replace("_", " ") for n in names.split(","))
                                        for code, names in _cells(_DEMONYMS)}

REGIONS: tuple[str, ...] = ("Northeast", "Midwest", "South", "West")
WEST_COAST: tuple[str, ...] = ("CA", "OR", "WA")
EAST_COAST: tuple[str, ...] = ("ME", "NH", "MA", "RI", "CT", "NY", "NJ", "DE", "MD", "VA", "NC", "SC", "GA", "FL")


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table = {s.code.lower(): s.code for s in STATES.values()}
    table.update({s.name.lower(): s.code for s in STATES.values()})
    table["washington dc"] = table["washington d.c."] = table["d.c."] = "DC"
    return table


def resolve_state(text: str | None) -> str | None:
    """USPS code for a state code or name in any case and spacing; None if it is not one of the 51."""
    if text is None:
        return None
    return _lookup().get(" ".join(str(text).split()).lower())


def region_of(code: str) -> str:
    return STATES[code].region


def states_in_region(region: str) -> tuple[str, ...]:
    return tuple(s.code for s in STATES.values() if s.region == region)


# State codes people also use for a city: "LA sales" is as likely Los Angeles as Louisiana.
CITY_SHORTHANDS: dict[str, str] = {"LA": "Los Angeles", "SD": "San Diego", "SF": "San Francisco",
                                   "SA": "San Antonio", "KC": "Kansas City"}
