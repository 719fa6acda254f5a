"""The admin's directory: customers, their sites and devices, kept by hand or imported from CSV."""
