"""Generic process runtime over SpiffWorkflow 3.2.0.

It deploys diagrams, runs and persists instances, fires timers, journals every step and calls
service-task handlers by operator id. It knows nothing about tickets: the service domain lives in
``processes/`` and may import from here, never the other way round.
"""
