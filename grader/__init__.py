"""The course's grading system: exercise authoring, in-notebook self-checks and a sandboxed grader.

See grader/README.md. Entry points: ``python -m grader`` (grade), ``python -m grader.authoring``
(generate/check the exercise notebooks), ``grader.selfcheck.check`` (in notebooks).
"""
__version__ = "0.1.0"
