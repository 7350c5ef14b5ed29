#!/usr/bin/env python3
"""Validates a JSON document against one of the official schemas, offline.

Usage: validate_sbom.py SCHEMA_DIR SCHEMA DOC
  e.g. validate_sbom.py fixtures/schemas spdx-2.3.schema.json image.spdx.json

SCHEMA (a file name in SCHEMA_DIR) is checked with the draft its $schema
names; every other *.json of SCHEMA_DIR resolves the $refs by its $id
(bom-1.5.schema.json refs spdx.schema.json and jsf-0.82.schema.json), so
nothing is fetched: a remote ref fails. jsonschema >= 4.18 resolves through
`referencing`, older ones (Debian 12's 4.10.3) through RefResolver. The same
validator as tests/test_packages_sbom.cpp's.

Prints each error (its JSON path and message), then `<Validator> errors: N`.
Exit status: 0 valid, 10 invalid, 3 no jsonschema module, 1 anything else
(a bad schema, an unreadable file: a traceback).
"""
import json
import os
import sys

try:
    import jsonschema
    from jsonschema.validators import validator_for
except ImportError:
    print("no python3 jsonschema module (python3-jsonschema)", file=sys.stderr)
    sys.exit(3)

if len(sys.argv) != 4:
    sys.exit(__doc__)
schema_dir, schema_name, doc_path = sys.argv[1:4]
schemas = {}
for name in sorted(os.listdir(schema_dir)):
    if name.endswith(".json"):
        with open(os.path.join(schema_dir, name)) as f:
            schemas[name] = json.load(f)
root = schemas[schema_name]
cls = validator_for(root, default=None)
if cls is None:
    sys.exit("no validator for " + str(root.get("$schema")))
cls.check_schema(root)
try:
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    validator = cls(root, registry=registry, format_checker=cls.FORMAT_CHECKER)
except ImportError:
    def offline(uri):
        raise ValueError("not fetching " + uri)

    resolver = jsonschema.RefResolver.from_schema(
        root, store={s["$id"]: s for s in schemas.values()},
        handlers={"http": offline, "https": offline})
    validator = cls(root, resolver=resolver, format_checker=cls.FORMAT_CHECKER)
with open(doc_path) as f:
    doc = json.load(f)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message[:300])
print(cls.__name__, "errors:", len(errors))
sys.exit(10 if errors else 0)
