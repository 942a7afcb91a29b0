"""Language identification: hashed character n-gram features, the model, codes and script rules."""
