"""REST views, one module per area."""
