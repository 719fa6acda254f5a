"""The OpenAPI 3.1 document of /api/v1.  Tests validate real responses against these schemas."""

from __future__ import annotations

from typing import Any

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "code", "message"],
                            "properties": {
                                "field": {"type": "string"},
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "Ticket": {
        "type": "object",
        "required": [
            "number",
            "status",
            "urgency",
            "source_channel",
            "problem_description",
            "customer",
            "site",
            "created_at",
        ],
        "properties": {
            "number": {"type": "string", "pattern": "^T-[0-9]{8}-[0-9]{4,}$"},
            "status": {"type": "string"},
            "urgency": {"type": "string", "enum": ["blue", "yellow", "orange", "red"]},
            "source_channel": {"type": "string"},
            "problem_description": {"type": "string"},
            "customer": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "device": {"type": ["object", "null"]},
            "site": {"type": "object", "required": ["id", "lat", "lon"]},
            "engineer": {"type": ["object", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "response_due_at": _NULLABLE_TIME,
            "accepted_at": _NULLABLE_TIME,
            "on_site_at": _NULLABLE_TIME,
            "resolved_at": _NULLABLE_TIME,
            "closed_at": _NULLABLE_TIME,
            "root_cause": {"type": ["string", "null"]},
            "prevention_suggestion": {"type": ["string", "null"]},
            "fixed_first_time": {"type": ["boolean", "null"]},
            "rework_count": {"type": "integer"},
            "open_tasks": {"type": "array", "items": {"$ref": "#/components/schemas/TaskSummary"}},
            "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/TimelineEntry"}},
        },
    },
    "TaskSummary": {
        "type": "object",
        "required": ["id", "name", "spec", "lane", "ticket"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "spec": {"type": "string"},
            "lane": {"type": ["string", "null"]},
            "ticket": {"type": ["string", "null"]},
        },
    },
    "Task": {
        "allOf": [{"$ref": "#/components/schemas/TaskSummary"}],
        "type": "object",
        "required": ["form", "ready", "may_complete", "options"],
        "properties": {
            "form": {"type": ["object", "null"], "description": "JSON schema of the task's form"},
            "ready": {"type": "boolean"},
            "may_complete": {"type": "boolean"},
            "options": {
                "type": "object",
                "description": "Choices of x-options fields, from managed data",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "label"],
                        "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                    },
                },
            },
        },
    },
    "TimelineEntry": {
        "type": "object",
        "required": ["seq", "at", "actor", "kind"],
        "properties": {
            "seq": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "actor_name": {"type": "string"},
            "kind": {"type": "string"},
            "task": {"type": ["string", "null"]},
            "task_name": {"type": ["string", "null"]},
            "input": {"type": "object"},
            "changes": {"type": "object"},
        },
    },
    "Intake": {
        "type": "object",
        "description": "Fields of bpmn_models/forms/intake.schema.json of the current deployment",
        "required": ["source_channel", "urgency", "problem_description"],
        "properties": {
            "source_channel": {"type": "string"},
            "urgency": {"type": "string"},
            "customer_id": {"type": "integer"},
            "device_id": {"type": "integer"},
            "device_qr": {"type": "string"},
            "contact_name": {"type": "string"},
            "contact_phone": {"type": "string"},
            "problem_description": {"type": "string"},
            "process": {
                "type": "string",
                "description": "A published ticket process id (default ticket_lifecycle); its intake form applies",
            },
        },
    },
    "UploadBegin": {
        "type": "object",
        "required": ["upload_id", "task_id", "field", "total_size"],
        "properties": {
            "upload_id": {"type": "string", "format": "uuid", "description": "chosen by the client"},
            "task_id": {"type": "string"},
            "field": {"type": "string"},
            "filename": {"type": "string"},
            "content_type": {"type": ["string", "null"]},
            "total_size": {"type": "integer", "minimum": 1},
            "sha256": {"type": ["string", "null"]},
        },
    },
    "UploadStatus": {
        "type": "object",
        "required": ["upload_id", "received", "total_size", "reference"],
        "properties": {
            "upload_id": {"type": "string"},
            "received": {"type": "integer"},
            "total_size": {"type": "integer"},
            "reference": {
                "type": ["string", "null"],
                "description": "sha256:… once finished; put it in the task's form field",
            },
        },
    },
    "Completion": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "object", "description": "Values for the task's form"}},
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_AUTH = {"401": _error("Missing or invalid token")}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
_UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    ref = {name: {"$ref": f"#/components/schemas/{name}"} for name in SCHEMAS}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Closeloop API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "closeloop user token USERNAME"}
            },
        },
        "paths": {
            "/tickets": {
                "post": {
                    "operationId": "createTicket",
                    "summary": "Create a ticket and start its lifecycle",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": ref["Intake"]}}},
                    "responses": {"201": _ok("Created", ref["Ticket"]), "422": _error("Invalid input"), **_AUTH},
                }
            },
            "/tickets/{number}": {
                "get": {
                    "operationId": "getTicket",
                    "summary": "A ticket with its open tasks and timeline",
                    "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _ok("The ticket", ref["Ticket"]), "404": _error("No such ticket"), **_AUTH},
                }
            },
            "/tasks": {
                "get": {
                    "operationId": "listMyTasks",
                    "summary": "Ready tasks the token's user may complete",
                    "responses": {
                        "200": _ok(
                            "Tasks",
                            {
                                "type": "object",
                                "required": ["tasks"],
                                "properties": {"tasks": {"type": "array", "items": ref["TaskSummary"]}},
                            },
                        ),
                        **_AUTH,
                    },
                }
            },
            "/tasks/{task_id}": {
                "get": {
                    "operationId": "getTask",
                    "summary": "A task with its form (JSON schema)",
                    "parameters": [_TASK_ID],
                    "responses": {"200": _ok("The task", ref["Task"]), "404": _error("No such task"), **_AUTH},
                }
            },
            "/uploads": {
                "post": {
                    "operationId": "beginUpload",
                    "summary": "Start (or resume) a resumable upload for a task's field",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": ref["UploadBegin"]}}},
                    "responses": {
                        "201": _ok("Started", ref["UploadStatus"]),
                        "403": _error("Not your task"),
                        "409": _error("Upload id used for another file"),
                        "422": _error("Invalid"),
                        **_AUTH,
                    },
                }
            },
            "/uploads/{upload_id}": {
                "get": {
                    "operationId": "uploadStatus",
                    "summary": "How many bytes arrived (to resume)",
                    "parameters": [_UPLOAD_ID],
                    "responses": {"200": _ok("Status", ref["UploadStatus"]), "404": _error("No such upload"), **_AUTH},
                },
                "put": {
                    "operationId": "uploadChunk",
                    "summary": "Send bytes at an offset (a repeated chunk is kept once)",
                    "parameters": [
                        _UPLOAD_ID,
                        {
                            "name": "offset",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "responses": {
                        "200": _ok("Status", ref["UploadStatus"]),
                        "404": _error("No such upload"),
                        "409": _error("A gap: resume from 'received'"),
                        **_AUTH,
                    },
                },
            },
            "/uploads/{upload_id}/finish": {
                "post": {
                    "operationId": "finishUpload",
                    "summary": "Check the file and attach it; gives its reference",
                    "parameters": [_UPLOAD_ID],
                    "responses": {
                        "200": _ok("Attached", ref["UploadStatus"]),
                        "404": _error("No such upload"),
                        "422": _error("Refused file (type, size, video length…)"),
                        **_AUTH,
                    },
                }
            },
            "/tasks/{task_id}/complete": {
                "post": {
                    "operationId": "completeTask",
                    "summary": "Complete a task; photos as multipart parts named by field, data as a JSON part",
                    "parameters": [_TASK_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": ref["Completion"]},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "data": {"type": "string", "description": "JSON object of form values"}
                                    },
                                    "additionalProperties": {"type": "string", "format": "binary"},
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": _ok("The ticket after the step", ref["Ticket"]),
                        "403": _error("Not your task"),
                        "404": _error("No such task"),
                        "409": _error("Already completed"),
                        "422": _error("Invalid input"),
                        **_AUTH,
                    },
                }
            },
        },
    }
