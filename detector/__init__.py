"""gouji (勾稽): figures that must agree with each other.

The pipeline, from file to findings::

    ingest.load → segment.sentences → claims.extract → checks.run → findings → report
"""

__version__ = "0.1.0"
