"""The one thing pyproject.toml cannot say: briefgen's two optional C modules.

``briefgen._htmlscan`` walks the tokens of a rendered page for the self-check (about
forty times faster than the regular expressions it stands in for); it needs only a C
compiler, and without one the self-check runs in Python with the same verdicts.

``briefgen._yamlfast`` builds the fact files' data straight from libyaml's events (some
five times faster than PyYAML's parser, which makes Python objects for every event).
It needs libyaml's headers (Debian: libyaml-dev); where they are missing the build goes
on without it and briefgen reads YAML through PyYAML, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "briefgen._yamlfast",
            sources=["briefgen/_yamlfast.c"],
            libraries=["yaml"],
            optional=True,
        ),
        Extension("briefgen._htmlscan", sources=["briefgen/_htmlscan.c"], optional=True),
    ]
)
