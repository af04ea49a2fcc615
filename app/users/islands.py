"""The islands of The Bahamas, shared by profiles, companies and jobs (here, in the lowest
domain that uses them)."""

from __future__ import annotations

from enum import StrEnum


class Island(StrEnum):
    NEW_PROVIDENCE = "New Providence"
    GRAND_BAHAMA = "Grand Bahama"
    ABACO = "Abaco"
    ANDROS = "Andros"
    ELEUTHERA = "Eleuthera"
    HARBOUR_ISLAND = "Harbour Island"
    SPANISH_WELLS = "Spanish Wells"
    EXUMA = "Exuma"
    LONG_ISLAND = "Long Island"
    CAT_ISLAND = "Cat Island"
    BIMINI = "Bimini"
    BERRY_ISLANDS = "Berry Islands"
    SAN_SALVADOR = "San Salvador"
    INAGUA = "Inagua"
    ACKLINS = "Acklins"
    CROOKED_ISLAND = "Crooked Island"
    MAYAGUANA = "Mayaguana"
    RAGGED_ISLAND = "Ragged Island"
    RUM_CAY = "Rum Cay"
