"""Every API schema class has its own name: the OpenAPI document names components by class name, so two classes
of one name in different apps would silently share one definition and one of them would be documented wrongly."""

from collections import defaultdict

from ninja import Schema

import launchdeck.config.api  # noqa: F401  (imports every router, so every schema class exists)


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
