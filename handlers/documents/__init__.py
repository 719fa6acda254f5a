"""Customer documents rendered as PDFs (WeasyPrint + Jinja): data in, bytes out, no database, no Flask."""
