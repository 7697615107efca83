"""The experiments built from the jobs: what EquiConv buys (perspective and panorama training,
tested on panoramas) and PanOSIS end to end (one pair, OSMIS, a generated set, U-Nets)."""
