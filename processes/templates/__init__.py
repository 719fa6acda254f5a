"""Process templates (issue 12 §4): whole processes an owner can start a new process from.

Each template is a folder beside this module holding a diagram, its decisions, forms and lanes, plus
``manifest.json`` with the zh/en name and description. They live here and not under ``bpmn_models/``
because the shipped models directory is deployed whole (``engine.deployments.read_models`` walks it
recursively): a template there would be deployed at every start.
"""
