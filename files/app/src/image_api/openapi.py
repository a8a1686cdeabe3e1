"""The OpenAPI 3 document of the API, built from the same constants the handlers validate with."""

from __future__ import annotations

from .catalog_schema import COLOUR_NAMES, FORMATS, ORIENTATIONS
from .config import FORMATS as OUTPUT_FORMATS
from .config import Settings
from .queries import FACETS, MAX_ID_LENGTH, MAX_MIN_WIDTH, MAX_TAGS
from .resize import FITS, GRAVITIES, PIXEL_RATIOS, REQUEST_FORMATS

ERROR = {"$ref": "#/components/responses/Error"}
ID_PARAMETER = {
    "name": "image_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": MAX_ID_LENGTH},
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def openapi_document(settings: Settings) -> dict:
    summary_schema = {
        "type": "object",
        "required": [
            "id",
            "title",
            "tags",
            "width",
            "height",
            "format",
            "orientation",
            "colour",
            "colours",
            "aspect_ratio",
            "url",
            "thumbnail_url",
            "srcset",
            "placeholder",
        ],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "format": {"type": "string", "enum": list(FORMATS)},
            "orientation": {"type": "string", "enum": list(ORIENTATIONS)},
            "colour": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
            "colours": {"type": "array", "items": {"type": "string", "enum": list(COLOUR_NAMES)}},
            "aspect_ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
            "srcset": {"type": "string", "description": "thumbnail URLs by width, for <img srcset>"},
            "placeholder": {
                "type": "string",
                "description": "base64 ThumbHash to paint before the thumbnail arrives (empty when unknown)",
            },
        },
    }
    widths = list(settings.allowed_widths)
    levels = list(settings.quality_levels)
    json_ok = lambda schema: {"description": "OK", "content": {"application/json": {"schema": schema}}}  # noqa: E731
    return {
        "openapi": "3.0.3",
        "info": {"title": "image-delivery image API", "version": "1"},
        "paths": {
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": json_ok({"type": "object"})}}},
            "/readyz": {
                "get": {
                    "summary": "Readiness: catalog loaded and image store reachable",
                    "responses": {"200": json_ok({"type": "object"}), "503": ERROR},
                }
            },
            "/api/search": {
                "get": {
                    "summary": "Ranked search, typo-tolerant per word",
                    "parameters": [
                        _query("q", {"type": "string", "maxLength": settings.max_query_length}, "Words to find"),
                        _query(
                            "tags",
                            {"type": "string"},
                            f"Comma-separated tags that must all be present (max {MAX_TAGS})",
                        ),
                        _query("format", {"type": "string", "enum": list(FORMATS)}, "Only this format"),
                        _query("orientation", {"type": "string", "enum": list(ORIENTATIONS)}, "Only this orientation"),
                        _query(
                            "colour", {"type": "string", "enum": list(COLOUR_NAMES)}, "Only images with this colour"
                        ),
                        _query(
                            "min_width", {"type": "integer", "minimum": 0, "maximum": MAX_MIN_WIDTH}, "Minimum width"
                        ),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": settings.max_search_limit},
                            "Page size",
                        ),
                        _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
                        _query(
                            "facets",
                            {"type": "string"},
                            f"Comma-separated facets to count over every match: any of {', '.join(FACETS)}",
                        ),
                        _query("_", {"type": "string"}, "A cache buster: any value, changes nothing but the cache key"),
                    ],
                    "responses": {
                        "200": json_ok(
                            {
                                "type": "object",
                                "required": ["query", "total", "count", "fuzzy", "results", "next_cursor", "version"],
                                "properties": {
                                    "query": {"type": "string"},
                                    "total": {"type": "integer", "minimum": 0},
                                    "count": {"type": "integer", "minimum": 0},
                                    "fuzzy": {"type": "boolean"},
                                    "suggestion": {"type": "string", "nullable": True},
                                    "next_cursor": {"type": "string", "nullable": True},
                                    "version": {"type": "string"},
                                    "results": {"type": "array", "items": summary_schema},
                                    "facets": {
                                        "type": "object",
                                        "description": "Asked facets: value -> matches, most frequent first",
                                        "additionalProperties": {
                                            "type": "object",
                                            "additionalProperties": {"type": "integer", "minimum": 1},
                                        },
                                    },
                                },
                            }
                        ),
                        "400": ERROR,
                        "413": ERROR,
                        "503": ERROR,
                    },
                }
            },
            "/api/images/{image_id}": {
                "get": {
                    "summary": "Metadata of one image",
                    "parameters": [ID_PARAMETER],
                    "responses": {"200": json_ok(summary_schema), "400": ERROR, "404": ERROR},
                }
            },
            "/api/images/{image_id}/similar": {
                "get": {
                    "summary": "More like this: the closest images by perceptual hash, tags and colours",
                    "parameters": [
                        ID_PARAMETER,
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": settings.max_search_limit},
                            "How many",
                        ),
                    ],
                    "responses": {
                        "200": json_ok(
                            {
                                "type": "object",
                                "required": ["id", "count", "version", "results"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "count": {"type": "integer", "minimum": 0},
                                    "version": {"type": "string"},
                                    "results": {
                                        "type": "array",
                                        "items": {
                                            "allOf": [
                                                summary_schema,
                                                {
                                                    "type": "object",
                                                    "required": ["score"],
                                                    "properties": {
                                                        "score": {"type": "number", "minimum": 0, "maximum": 1}
                                                    },
                                                },
                                            ]
                                        },
                                    },
                                },
                            }
                        ),
                        "400": ERROR,
                        "404": ERROR,
                    },
                }
            },
            "/image/{name}": {
                "get": {
                    "summary": "Redirect to the original of the image that best matches a name",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"302": {"description": "Redirect to the original"}, "400": ERROR, "404": ERROR},
                }
            },
            "/img/{image_id}": {
                "get": {
                    "summary": "A resized variant (sizes snap to allowed widths; no upscaling; one URL per variant)",
                    "parameters": [
                        ID_PARAMETER,
                        _query("w", {"type": "integer", "minimum": 1}, f"Width, snapped up to one of {widths}"),
                        _query("h", {"type": "integer", "minimum": 1}, "Height, snapped likewise"),
                        _query("fit", {"type": "string", "enum": list(FITS)}, "cover needs w and h"),
                        _query(
                            "gravity",
                            {"type": "string", "enum": list(GRAVITIES)},
                            "What cover keeps: auto (the focal point, else the most detail) or center",
                        ),
                        _query(
                            "fmt",
                            {"type": "string", "enum": list(REQUEST_FORMATS)},
                            "Output format; auto: avif, else webp, as the Accept header allows, else jpeg (png "
                            "for transparency), answered with Vary: Accept",
                        ),
                        _query(
                            "q",
                            {"type": "integer", "minimum": 1, "maximum": 95},
                            f"Quality of webp, avif and jpeg, snapped up to one of {levels}",
                        ),
                        _query(
                            "dpr",
                            {"type": "integer", "enum": list(PIXEL_RATIOS)},
                            "Device pixel ratio: w and h times it",
                        ),
                        _query(
                            "s",
                            {"type": "string", "maxLength": 64},
                            "Signature of the variant URL (as handed out); required where signed URLs are",
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "The image",
                            "content": {
                                f"image/{f}": {"schema": {"type": "string", "format": "binary"}} for f in OUTPUT_FORMATS
                            },
                        },
                        "304": {"description": "Not modified (ETag)"},
                        "308": {
                            "description": "Another spelling of a variant: redirect to its one canonical URL",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                        "422": ERROR,
                        "503": ERROR,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": json_ok({"type": "object"})}}
            },
        },
        "components": {
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["error", "detail"],
                                "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                            }
                        }
                    },
                }
            }
        },
    }
