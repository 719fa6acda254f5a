"""Documents rendered from plain data (PDFs): pure, no database, no catalogue, no Flask."""
