"""Named-entity recognition for the entities stage: tokens, model, dates and canonical ids."""
