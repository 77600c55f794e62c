"""Story digests: what arrived in a window, grouped into stories, with cited lead sentences.

* :mod:`.window` — the window (``--since 24h``, a date) and outlet matching;
* :mod:`.articles` — the window's articles read from the index (metadata, chunks, vectors);
* :mod:`.names` — names, numbers and dates an article mentions (same-event evidence);
* :mod:`.cluster` — agglomerative clustering of the articles into stories;
* :mod:`.build` — headlines, cited lead sentences, outlets, ordering (and LLM summaries);
* :mod:`.summary` — « Résume … » / "what's new on …" requests answered as a digest;
* :mod:`.catalog` — listing, showing, searching and removing articles.
"""
