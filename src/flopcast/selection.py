"""Choosing models from the database: years, domain, organization, and the frontier ("top N").

**Top N** keeps the models that were among the N with the most training compute when they
were published. Where Epoch gives its "Compute rank when published" (its rank among
notable models that are not fine-tunes, given for ranks 1-20 since December 2015), that rank
decides; otherwise flopcast ranks the model by reported training compute among the
database's models published up to that day (models of the same day ranked together).
Fine-tunes (rows that name a base model) are left out of the frontier and of trends by
default, as Cottier et al. and Epoch do (a fine-tune's compute includes its base model's);
``include_finetunes=True`` puts them back (ranked by flopcast's own ranking, since Epoch
ranks no fine-tune). A plain listing (no ``top``) keeps them, flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flopcast.errors import InvalidInputError
from flopcast.datasets.records import ModelRecord


def top_meaning(top: int | None, include_finetunes: bool | None = None) -> str:
    """What a selection's "top N" means, for every output that shows one."""
    keep = include_finetunes if include_finetunes is not None else top is None
    ft = "fine-tunes included" if keep else "fine-tunes left out"
    if top is None:
        return f"all models ({ft})"
    return (
        f"top {top}: among the {top} models with the most training compute when published (Epoch's 'Compute rank "
        f"when published' where given, else flopcast's rank by reported compute among the database's models "
        f"up to that date; {ft})"
    )


def frontier_mask(records: Sequence[ModelRecord], top: int, *, include_finetunes: bool = False) -> np.ndarray:
    """True for the records among the ``top`` by training compute when published (see the module docstring)."""
    from flopcast.trends import top_n_at_release

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InvalidInputError(f"top={top!r} must be a whole number >= 1")
    keep = np.zeros(len(records), dtype=bool)
    pool = [
        i
        for i, r in enumerate(records)
        if r.publication_date is not None and r.training_compute_flop and (include_finetunes or not r.is_finetune)
    ]
    if not pool:
        return keep
    # flopcast's rank: fewer than ``top`` models of the pool published by the same day with more compute
    ranked = top_n_at_release(
        [records[i].publication_date for i in pool], [records[i].training_compute_flop for i in pool], top
    )
    for i, by_flopcast in zip(pool, ranked, strict=True):
        r = records[i]
        keep[i] = r.compute_rank <= top if (r.compute_rank is not None and not r.is_finetune) else by_flopcast
    return keep


def select(
    records: Sequence[ModelRecord],
    *,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    top: int | None = None,
    include_finetunes: bool | None = None,
) -> list[ModelRecord]:
    """The records that pass every filter: the frontier first (ranked in the whole table), then the others.

    ``include_finetunes``: True keeps fine-tunes, False leaves them out; None (the default) leaves them out
    of a frontier selection (``top``) only, so a plain listing shows every model.
    """
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"since={since} is after until={until}")
    keep_ft = include_finetunes if include_finetunes is not None else top is None
    keep = list(records)
    if top is not None:
        mask = frontier_mask(keep, top, include_finetunes=keep_ft)
        keep = [r for r, k in zip(keep, mask, strict=True) if k]
    out = []
    for r in keep:
        if r.is_finetune and not keep_ft:
            continue
        y = r.publication_date.year if r.publication_date else None
        if since is not None and (y is None or y < since):
            continue
        if until is not None and (y is None or y > until):
            continue
        if domain and not any(domain.lower() in d.lower() for d in r.domains):
            continue
        if org and not any(org.lower() in o.lower() for o in r.organizations):
            continue
        out.append(r)
    return out
