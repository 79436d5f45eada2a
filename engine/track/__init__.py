"""Tracking: progress to date against the targets' own phasing, and the year-end forecast.

:func:`track` reads an allocation's targets and the deals to a date and returns a
:class:`Tracking`: per company, region, team, rep and product, the target and actual
to date, expected-to-date, pace, run-rate, a year-end forecast with P10/P50/P90 from a
performance model conditioned on the months seen (:mod:`attain.track.forecast`), the
chance of reaching target and challenge, the reps at risk, and with plans the payout
earned to date (exact) and the year's payout forecast (the accrual).
"""

from attain.track.api import track
from attain.track.forecast import Forecast, forecast
from attain.track.result import Tracking

__all__ = ["Forecast", "Tracking", "forecast", "track"]
