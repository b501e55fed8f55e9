"""Screenshot builders for the README (not shipped: `desktop/` is the product, this is tooling).

`scripts/screenshots.py` drives them; tests import them as `scripts.shots.*` to check that the
pictures can still be made.
"""
