"""News-aware questions and answers: what a question says about time and outlets, and dates in answers.

* :mod:`retrieval.scope.coverage` — what the index holds that a question can refer to (outlets,
  dated titles), rebuilt from the index's manifest;
* :mod:`retrieval.scope.outlets` — outlet names matched tolerantly (case, accents, ``www.``, URL host);
* :mod:`retrieval.scope.parse` — a question → a :class:`~retrieval.types.QueryScope` and the text to search;
* :mod:`retrieval.scope.recency` — the scope applied to retrieved passages and the recency prior;
* :mod:`retrieval.scope.dating` — dates put into a composed answer, and date labels of sources.
"""
