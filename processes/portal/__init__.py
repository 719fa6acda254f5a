"""The customer's portal behind a ticket's signed link: the device's failure curve and the satisfaction survey."""
