"""The process owner's editor (issue 12 §1): drafts, validation, deploy with a change note, diff, vocabulary."""
