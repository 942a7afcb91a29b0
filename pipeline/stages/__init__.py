"""The four stages. Importing this package registers them in pipeline order."""

from pipeline.stages import clean, entities, language, topics  # noqa: F401
