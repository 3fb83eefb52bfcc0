"""The OpenAPI 3.1 document of /api/v1: every route, its parameters, bodies and error shape.

Written out by hand rather than generated: the routes are few, and the document is what a
pipeline's author reads, so its words matter more than saving a dozen lines. A test runs
schemathesis against it, so the document and the server cannot drift apart unnoticed.
"""

from __future__ import annotations

from liftoff.ingest import KINDS

_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_NUM = {"type": ["number", "null"]}
# Liftoff stores the server's local time without an offset, so not RFC 3339's date-time.
_LOCAL_TIME = "The server's local time, ISO 8601 without an offset: 2026-11-23T08:00:00."

_PROBLEM = {
    "type": "object",
    "description": "One problem of a refused import: where it is and how to fix it.",
    "required": ["row", "column", "value", "message"],
    "properties": {
        "row": {
            **_NULLABLE_INT,
            "description": "The spreadsheet row (the header is row 1); for JSON rows, the "
            "position in `rows` counting from 1; null for the whole file.",
        },
        "column": _NULLABLE_STR,
        "value": _NULLABLE_STR,
        "message": {"type": "string", "description": "What is wrong, then the fix."},
    },
}

_ERROR_BODY = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}

_ERROR = {
    "type": "object",
    "description": "Every error: one message that says what is wrong and what to do.",
    "required": ["error"],
    "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
}

_REPORT_PROPERTIES = {
    "batch_id": {**_NULLABLE_INT, "description": "null for a dry run or a refused file."},
    "kind": {**_NULLABLE_STR, "description": "What the file held (detected or given)."},
    "rows_read": {"type": "integer"},
    "rows_accepted": {"type": "integer"},
    "warnings": {"type": "array", "items": {"type": "string"}},
    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
}

_IMPORT_REPORT = {
    "type": "object",
    "description": "The same object as `liftoff import --json` prints.",
    "required": ["batch_id", "kind", "rows_read", "rows_accepted", "warnings", "errors"],
    "properties": _REPORT_PROPERTIES,
}

_IMPORT_REFUSED = {
    "type": "object",
    "description": "A refused import: nothing was written. The same fields as "
    "`liftoff import --json`, with the error message in front.",
    "required": ["error", "batch_id", "kind", "rows_read", "rows_accepted", "warnings", "errors"],
    "properties": {
        "error": {"$ref": "#/components/schemas/ErrorBody"},
        **_REPORT_PROPERTIES,
        "duplicate_of": {
            "type": "integer",
            "description": "409 only: the batch that imported the same file before.",
        },
    },
}

_OPTION_FIELDS = {
    "kind": {
        "type": "string",
        "enum": ["auto", *KINDS],
        "default": "auto",
        "description": "What the file holds; auto detects it from the columns.",
    },
    "initiative": {"type": "string", "description": "For files without an initiative column."},
    "iteration": {
        "type": "integer",
        "minimum": 1,
        "description": "For files without an iteration column.",
    },
    "users": {
        "type": "integer",
        "minimum": 1,
        "description": "The user count of a Locust _stats.csv step.",
    },
    "create": {
        "type": "boolean",
        "default": False,
        "description": "Create the initiatives and iterations the file names.",
    },
    "force": {
        "type": "boolean",
        "default": False,
        "description": "Import a file that was imported before.",
    },
    "replace_load_tests": {
        "type": "boolean",
        "default": False,
        "description": "A load test of an iteration that has one replaces it; rolling this "
        "import back brings the earlier one back.",
    },
    "dry_run": {
        "type": "boolean",
        "default": False,
        "description": "Validate only: write nothing (answers 200).",
    },
    "sheet": {"type": "string", "description": "Excel: the sheet to read."},
    "dates": {"type": "string", "enum": ["dayfirst", "monthfirst"]},
    "iteration_tag": {
        "type": "string",
        "default": "tags.iteration",
        "description": "MLflow runs: the column naming each run's iteration.",
    },
}

_INITIATIVE = {
    "type": "object",
    "required": ["name", "stage"],
    "properties": {
        "name": {"type": "string"},
        "business_goal": _NULLABLE_STR,
        "owner": _NULLABLE_STR,
        "stage": {"type": "string"},
        "slo_p95_ms": _NULLABLE_NUM,
        "max_error_rate": _NULLABLE_NUM,
        "primary_metric": _NULLABLE_STR,
        "min_headroom": _NULLABLE_NUM,
        "min_readiness": _NULLABLE_NUM,
    },
}

_BATCH = {
    "type": "object",
    "required": ["batch_id", "kind", "file_name", "status", "rows_read", "rows_accepted"],
    "properties": {
        "batch_id": {"type": "integer"},
        "kind": {"type": "string"},
        "file_name": {"type": "string"},
        "sha256": {"type": "string"},
        "rows_read": {"type": "integer"},
        "rows_accepted": {"type": "integer"},
        "status": {"type": "string", "enum": ["committed", "rejected", "rolled_back"]},
        "uploaded_by": _NULLABLE_STR,
        "uploaded_at": {"type": "string", "description": _LOCAL_TIME},
        "rolled_back_by": _NULLABLE_STR,
        "rolled_back_at": {**_NULLABLE_STR, "description": _LOCAL_TIME},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "file_size": _NULLABLE_INT,
        "message": {"type": "string", "description": "After a rollback: what was removed."},
    },
}

_SUMMARY = {
    "type": "object",
    "description": "Exactly what `liftoff summary --initiative NAME --json` prints: values in "
    "stored units (fractions for ratios).",
    "required": ["initiative", "iterations"],
    "properties": {
        "initiative": {"type": "object"},
        "iterations": {"type": "array", "items": {"type": "object"}},
    },
}


_PULL = {
    "type": "object",
    "required": ["tracking_uri", "experiment", "initiative"],
    "properties": {
        "tracking_uri": {"type": "string", "description": "http(s) URL of the MLflow server."},
        "experiment": {"type": "string"},
        "initiative": {"type": "string"},
        "iteration_tag": {"type": "string", "default": "iteration"},
        "since": {"type": "string", "format": "date"},
        "create": {"type": "boolean", "default": False},
    },
}

_PULL_REPORT = {
    "type": "object",
    "required": ["runs", "added", "updated", "unchanged", "deleted", "batch_id", "message"],
    "properties": {
        "runs": {"type": "integer", "description": "Live runs read from MLflow."},
        "added": {"type": "array", "items": {"type": "string"}},
        "updated": {"type": "array", "items": {"type": "string"}},
        "unchanged": {"type": "array", "items": {"type": "string"}},
        "deleted": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Runs deleted in MLflow since the last pull; their values were "
            "removed from Liftoff.",
        },
        "batch_id": {**_NULLABLE_INT, "description": "null when nothing changed."},
        "history_batch_id": {
            **_NULLABLE_INT,
            "description": "The batch of the runs' metric histories (every metric logged at "
            "more than one step); null when nothing changed or no run has one.",
        },
        "history_steps": {"type": "integer", "description": "Metric steps imported."},
        "superseded": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "The earlier pull's batches, rolled back.",
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict:
    words = {
        400: "The body is not what the route takes.",
        401: "No token, or a token Liftoff does not know.",
        403: "The token may not do this: revoked, expired, a viewer's, or limited to another "
        "initiative. Nothing was written.",
        404: "Not found.",
        409: "In conflict with what is stored.",
        413: "The body is too large.",
        415: "Neither multipart/form-data nor application/json.",
        422: "Refused: nothing was written.",
        429: "Too many requests with this token; see Retry-After.",
        502: "The MLflow server could not be read.",
        503: "The database is busy or unreachable; try again.",
    }
    out = {}
    for code in codes:
        response = {
            "description": words[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        if code == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait.",
                    "schema": {"type": "integer"},
                }
            }
        out[str(code)] = response
    return out


_COMMON = (401, 403, 429, 503)


def _json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict:
    """The OpenAPI 3.1 document, as served at /api/v1/openapi.json."""
    refused = {
        "description": "Refused: nothing was written; every problem with row, column, value.",
        "content": {"application/json": {"schema": _ref("ImportRefused")}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liftoff API",
            "version": "1",
            "description": "Pipelines push evidence and read summaries. Every request needs "
            "`Authorization: Bearer <token>` (`liftoff tokens create`), except this document. "
            "Imports go through the same validation as the Upload page and `liftoff import`: "
            "all or nothing per file.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/imports": {
                "post": {
                    "operationId": "postImport",
                    "summary": "Import a file, or rows sent as JSON",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "contentMediaType": "application/octet-stream",
                                            "description": "CSV or .xlsx, up to 200 MB.",
                                        },
                                        **_OPTION_FIELDS,
                                    },
                                }
                            },
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["rows"],
                                    "properties": {
                                        **_OPTION_FIELDS,
                                        "rows": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "additionalProperties": {
                                                    "type": ["string", "number", "boolean", "null"]
                                                },
                                            },
                                            "description": "One object a row: column name to "
                                            "value, the columns a file of this kind has.",
                                        },
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": _json_response(
                            "Dry run: valid, nothing written.", _ref("ImportReport")
                        ),
                        "201": _json_response("Imported as a new batch.", _ref("ImportReport")),
                        "409": {
                            "description": "The same file was imported before (see "
                            "duplicate_of); send force=true to import it again.",
                            "content": {"application/json": {"schema": _ref("ImportRefused")}},
                        },
                        "422": refused,
                        **_errors(400, *_COMMON, 413, 415),
                        "403": {
                            "description": "The token may not write here; nothing was written.",
                            "content": {
                                "application/json": {
                                    "schema": {"anyOf": [_ref("Error"), _ref("ImportRefused")]}
                                }
                            },
                        },
                    },
                }
            },
            "/initiatives": {
                "get": {
                    "operationId": "listInitiatives",
                    "summary": "Every initiative with its settings",
                    "responses": {
                        "200": _json_response(
                            "The initiatives, by name.",
                            {
                                "type": "object",
                                "required": ["initiatives"],
                                "properties": {
                                    "initiatives": {"type": "array", "items": _ref("Initiative")}
                                },
                            },
                        ),
                        **_errors(*_COMMON),
                    },
                }
            },
            "/initiatives/{name}/summary": {
                "get": {
                    "operationId": "getSummary",
                    "summary": "The figures the screens show for one initiative",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The initiative's exact name.",
                        }
                    ],
                    "responses": {
                        "200": _json_response("The summary.", _ref("Summary")),
                        **_errors(*_COMMON, 404),
                    },
                }
            },
            "/batches/{batch_id}": {
                "get": {
                    "operationId": "getBatch",
                    "summary": "One import batch",
                    "parameters": [_batch_id()],
                    "responses": {
                        "200": _json_response("The batch.", _ref("Batch")),
                        **_errors(*_COMMON, 404),
                    },
                }
            },
            "/batches/{batch_id}/rollback": {
                "post": {
                    "operationId": "rollbackBatch",
                    "summary": "Remove exactly the rows of a batch and restore what it changed",
                    "description": "Refused with 409 when rows the batch touched were changed "
                    "since (the message says who changed what), unless force=true.",
                    "parameters": [
                        _batch_id(),
                        {
                            "name": "force",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "boolean", "default": False},
                            "description": "Also undo later changes to the rows it touched.",
                        },
                    ],
                    "responses": {
                        "200": _json_response("Rolled back.", _ref("Batch")),
                        **_errors(*_COMMON, 404, 409),
                    },
                }
            },
            "/pulls/mlflow": {
                "post": {
                    "operationId": "pullMlflow",
                    "summary": "Pull an experiment's runs from an MLflow tracking server",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Pull")}},
                    },
                    "responses": {
                        "200": _json_response("Pulled (or nothing changed).", _ref("PullReport")),
                        **_errors(400, *_COMMON, 404, 415, 502),
                        "422": {
                            "description": "Not pulled: not an allowed address, no such "
                            "experiment, or runs the importer refuses (every problem listed). "
                            "Nothing was written.",
                            "content": {
                                "application/json": {
                                    "schema": {"anyOf": [_ref("Error"), _ref("ImportRefused")]}
                                }
                            },
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI document."}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `liftoff tokens create NAME --role editor`.",
                }
            },
            "schemas": {
                "Error": _ERROR,
                "ErrorBody": _ERROR_BODY,
                "Problem": _PROBLEM,
                "ImportReport": _IMPORT_REPORT,
                "ImportRefused": _IMPORT_REFUSED,
                "Initiative": _INITIATIVE,
                "Batch": _BATCH,
                "Summary": _SUMMARY,
                "Pull": _PULL,
                "PullReport": _PULL_REPORT,
            },
        },
    }


def _batch_id() -> dict:
    return {
        "name": "batch_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }
