"""Places: what a resident may type to find a spot, and the name every issue keeps.

`words` folds text into the words a gazetteer matches (case, accents, St/Street, 1st/First,
"&"/"and"); `gazetteer` keeps each portal's own places and answers suggestions and reverse
look-ups from its indexes; `named_areas` and `addresses` fill it (tenant files, an
OpenAddresses CSV); `backends` puts the gazetteer, Nominatim and Photon behind one interface,
chosen per portal; `naming` writes an issue's place name. Below reports, above tenancy.
"""
