"""The evidence chain: resumable uploads, before/after comparison, and what a reviewer sees."""
