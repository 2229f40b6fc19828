"""Names in the OpenAPI document are unique across apps.

Every API schema class has its own name: the document names components by class name, so two classes of one name in
different apps would silently share one definition and one of them would be documented wrongly. Likewise every
operation has its own id.
"""

from collections import defaultdict

from ninja import Schema

import launchdeck.config.api  # imports every router, so every schema class exists


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_schema_class_names_are_unique_across_apps():
    names = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("launchdeck."):
            names[cls.__name__].add(cls.__module__)
    clashes = {name: modules for name, modules in names.items() if len(modules) > 1}
    assert not clashes, f"Rename one of each: {clashes}"


def test_operation_ids_are_unique_across_apps():
    """Ninja only warns about a second operation with an id already used; clients generated from the document would
    get one of the two."""
    document = launchdeck.config.api.api.get_openapi_schema(path_prefix="")
    ids = [spec["operationId"] for methods in document["paths"].values() for spec in methods.values()]
    assert len(ids) == len(set(ids)), sorted({op for op in ids if ids.count(op) > 1})
