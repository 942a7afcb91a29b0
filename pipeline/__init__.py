"""newsflow's domain: contracts, text tools and the four pure stages.

This package never imports Celery, kombu or Redis; ``workers`` wraps it.
"""

__version__ = "0.1.0"
