"""Views of a CheckResult: each module renders the same value for one audience."""
