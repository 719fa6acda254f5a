"""The service domain: customers, devices, engineers, tickets, and how they drive the lifecycle.

May import ``engine`` and ``handlers``; never ``webui``.  Services take a SQLAlchemy session and
leave committing to the caller, so a ticket and its process instance are created in one transaction.
"""
