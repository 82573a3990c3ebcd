"""The bottom layer: what every core shares, and nothing that knows a device kind.

Errors, units and argument checks, parameter specs, the device contract and backend
registries, spike batches, clocks, sequence tracking and link health. Pure Python + numpy.
"""
