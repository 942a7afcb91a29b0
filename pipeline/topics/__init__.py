"""Topic classification internals: taxonomy, tokenizer, static embeddings, head, lexicons, fusion."""
