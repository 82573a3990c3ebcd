"""Results of a run, read from its recording: summary, figures and HTML report, NWB export.

The top layer: reads recordings with :mod:`neurohybrid.io` and may use any core (e.g. the MEA
electrode layouts for the NWB electrodes table). Nothing below imports it.
"""
