"""The demo domain of the project: customers and their orders (not part of the library)."""
