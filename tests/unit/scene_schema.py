#!/usr/bin/env python3
"""Check scenes/scene.schema.json: a valid draft 2020-12 schema that accepts
every demo room, and rejects the broken cases whose rule a schema can express
(tests/scene-cases/*: the ones listed below). Exit 77 (skipped) without the
jsonschema module."""
import glob
import json
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema not installed: skipped")
    sys.exit(77)

schema = json.load(open("scenes/scene.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
passed = failed = 0
for path in sorted(glob.glob("scenes/demo/*.json")):
    errors = list(validator.iter_errors(json.load(open(path))))
    if errors:
        failed += 1
        print(f"FAIL {path}: {errors[0].json_path}: {errors[0].message[:200]}")
    else:
        passed += 1
# Cases a schema can catch too: it must reject them as the loader does.
SCHEMA_CASES = [
    "missing-capacity", "missing-walk", "missing-spawns", "wrong-type-capacity", "wrong-type-name",
    "capacity-out-of-range", "capacity-real", "bad-format-version", "unknown-field", "bad-room-id",
    "empty-name", "name-too-long", "guests-wrong-type", "walk-empty", "polygon-empty",
    "polygon-too-few-vertices", "polygon-too-many-vertices", "walk-neither", "walk-both", "spawn-missing-p",
    "too-many-spawns", "vector-wrong-element", "coordinate-out-of-range", "portal-missing-label",
    "portal-bad-room-id", "place-unknown-type", "stage-missing-volume", "seat-rows-missing-spacing",
    "sign-missing-label", "showcase-missing-topic", "screen-missing-size", "screen-bad-image",
    "place-field-of-other-type", "node-unknown-type", "node-missing-type", "node-not-an-object",
    "box-missing-size", "plane-size-3d", "cylinder-missing-height", "sphere-negative-radius",
    "node-negative-scale", "node-translation-short", "node-opacity-out-of-range",
    "node-field-of-other-type", "bad-colour", "bad-colour-name", "bad-background", "url-parent-dir",
    "url-absolute", "url-scheme", "url-outside-assets", "url-bad-character", "url-bad-extension",
    "gltf-missing-url", "fog-missing-color", "light-missing-position", "lighting-unknown-field",
    "light-intensity-type", "walk-unknown-field", "guests-unknown-field", "missing-name",
    "missing-format-version", "wrong-type-walk",
    "twins-bad-attr", "twins-bad-colors", "twins-colors-not-ramp", "twins-empty", "twins-entity-bad-character",
    "twins-entity-no-scheme", "twins-map-not-marker", "twins-marker-missing-map", "twins-missing-entity", "twins-ramp-missing-range",
    "twins-range-for-label", "twins-stale-after-out-of-range", "twins-too-many", "twins-too-many-colors", "twins-unknown-field", "twins-unknown-show",
]
for name in SCHEMA_CASES:
    path = f"tests/scene-cases/{name}/a.json"
    if validator.is_valid(json.load(open(path))):
        failed += 1
        print(f"FAIL {path}: the schema accepts what the loader refuses")
    else:
        passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
