"""The operator console: a small server-rendered web app over the store, streams and queues."""
