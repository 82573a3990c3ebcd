"""Public test helpers: mock batches and messages, and graph fixtures' building blocks."""
