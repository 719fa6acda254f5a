"""The form builder's domain: fields described without code, written as the JSON-schema form files
the engine already validates task submissions against (bpmn_models/forms/*.schema.json)."""
