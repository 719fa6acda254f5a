"""Who may do what: the one authorization policy of pages and API, and the rate limits of the doors."""
