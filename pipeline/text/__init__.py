"""Shared text tools.

* ``normalize``: display-text hygiene (NFC, invisible controls, entities, whitespace)
  and the folded *matching form* used for keys and lookups;
* ``arabic``: Arabic-script folding (alef/ya/kaf forms, Persian ی ک, diacritics, digits);
* ``boilerplate``: the marker table and structural rules of the clean stage;
* ``html_extract``: offline main-content extraction with trafilatura;
* ``decode``: undecodable text and UTF-8 mojibake repair;
* ``neardup``: MinHash near-duplicate signatures and LSH band keys.
"""
