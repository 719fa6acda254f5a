"""The customer's documents: the service confirmation, its versions and the customer's signature."""
