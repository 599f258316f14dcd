"""舆情回应监测: public-opinion response monitoring for government duty officers."""

__version__ = "0.1.0"
