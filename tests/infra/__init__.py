"""Tests of infrastructure generation, one module per module of ``glacier.infra``."""
