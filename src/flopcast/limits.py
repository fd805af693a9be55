"""The physical limits every front-end and the API share: one home for "impossible".

A value outside these is refused by the service layer with a one-line error that names the
field and the range, whichever front-end passed it. Each limit is generous, so that no real
run, planned or past, is refused:

- :data:`MAX_CHIPS` (10,000,000): ten times the largest cluster announced by 2026 (about
  1,000,000 accelerators planned; the largest built, xAI's Colossus, about 200,000 GPUs).
- :data:`MAX_CHIPS_PER_INSTANCE` (4,096): one serving replica; the largest scale-up domain
  sold in 2026 (NVIDIA's NVL576) is well inside it.
- :data:`MIN_DURATION_S` (1 s): no training run or serving period is shorter.
- :data:`MAX_PARAMS` (1e16): ten thousand times the largest model trained by 2026 (about 2e12).
- :data:`YEAR_MIN`..:data:`YEAR_MAX` (1950-2100): the first neural networks to the end of
  any forecast flopcast can make.
- :data:`MIN_QUANTITY`..:data:`MAX_QUANTITY` (1e-100..1e100): every other positive number a
  user gives (tokens, FLOP, prices, rates, budgets). The observable universe holds about 1e80
  atoms, so no count, price or rate comes near 1e100; and a product or quotient of three
  numbers inside this range stays inside floating point (about 1e-308..1.8e308), so such an
  input never overflows to infinity or underflows to zero on its way to a result. Counts
  (parameters, tokens, FLOP) start at 1.
"""

from __future__ import annotations

__all__ = [
    "MAX_CHIPS",
    "MAX_CHIPS_PER_INSTANCE",
    "MAX_PARAMS",
    "MAX_QUANTITY",
    "MAX_SHAPE",
    "MIN_DURATION_S",
    "MIN_QUANTITY",
    "YEAR_MAX",
    "YEAR_MIN",
]

MAX_CHIPS = 10_000_000
MAX_CHIPS_PER_INSTANCE = 4_096
MIN_DURATION_S = 1.0
MAX_PARAMS = 1e16
#: layers, model width and context length: ten million, far above any model (about 200 layers, a width of
#: about 30,000 and a context of 10 million tokens by 2026)
MAX_SHAPE = 10_000_000
YEAR_MIN = 1950
YEAR_MAX = 2100
MIN_QUANTITY = 1e-100
MAX_QUANTITY = 1e100
