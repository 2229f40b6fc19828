from launchdeck.core.registry import NavItem, register_nav


def register() -> None:
    register_nav(NavItem("Import / export", "integrations:exchange", order=850))
