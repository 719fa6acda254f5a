"""The customer's confirmation PDF: review and signature through the ticket's link, regeneration by agents."""
