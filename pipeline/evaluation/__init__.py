"""Evaluation commands: pipeline.evaluation.<name>.main(argv) scores a stage on data."""
