from __future__ import annotations

from retrieval.answer.duplicates import also_reported, collapse
from retrieval.types import Passage

WIRE = (
    "Le président ukrainien a rencontré mardi à Paris les dirigeants de la coalition des volontaires "
    "pour discuter des garanties de sécurité offertes à l'Ukraine après un éventuel cessez-le-feu."
)


def passage(article: str, text: str, source: str | None = None, url: str | None = None) -> Passage:
    return Passage(f"{article}#0", article, "Titre", text, 1.0, source=source, url=url)


def test_copies_of_a_wire_story_are_folded_into_the_best_ranked_one() -> None:
    passages = [
        passage("a/1", WIRE, source="site-a"),
        passage("b/2", WIRE + " Une réunion est prévue la semaine prochaine.", url="https://www.site-b.fr/x"),
        passage("c/3", "Le prix du gaz a baissé de 3 % en octobre selon le régulateur.", source="site-c"),
        passage("d/4", "Agence : " + WIRE, source="site-d"),
    ]
    kept, copies = collapse(passages)
    assert [p.article_id for p in kept] == ["a/1", "c/3"]
    assert also_reported(copies[0]) == ("site-b.fr", "site-d")
    assert 1 not in copies


def test_chunks_of_one_article_are_not_copies_of_each_other() -> None:
    kept, copies = collapse([passage("a/1", WIRE), passage("a/1", WIRE)])
    assert len(kept) == 2 and not copies
