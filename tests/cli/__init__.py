"""Tests of the ``glacier`` command, one module per command group of :mod:`glacier.cli`."""
