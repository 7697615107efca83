"""PanOSIS reference models, data and command lines built on equiconv."""
