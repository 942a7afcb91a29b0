"""Former name of :mod:`pipeline.text.neardup` (the near-duplicate scheme is MinHash now).

Kept so ``from pipeline.text.simhash import band_keys`` (the store's import) keeps
working; new code should import :mod:`pipeline.text.neardup`.
"""

from pipeline.text.neardup import band_keys, is_near_duplicate, signature, similarity  # noqa: F401
