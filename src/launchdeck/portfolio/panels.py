"""The portfolio's contributions to navigation and home pages."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav

PORTFOLIO_ROLES = frozenset({"portfolio_manager", "project_manager"})


def portfolio_summary(user) -> dict:
    from launchdeck.portfolio.selectors import portfolio_home

    return portfolio_home(user=user)


def register() -> None:
    register_nav(NavItem("Portfolio", "portfolio:portfolio_list", permission="portfolio.view_portfolio", order=150))
    register_home_panel(
        HomePanel(
            key="portfolio",
            title="Portfolio",
            template="portfolio/partials/_portfolio_panel.html",
            context=portfolio_summary,
            roles=PORTFOLIO_ROLES,
            permission="portfolio.view_initiative",
            order=10,
        )
    )
