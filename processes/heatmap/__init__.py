"""The process heat map and event-log export (issue 13 part B): SQL aggregations over the journal."""
