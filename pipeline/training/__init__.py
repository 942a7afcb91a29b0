"""Training commands: pipeline.training.<name>.main(argv) rebuilds a model from data."""
