"""A small synthetic news corpus for the digest tests: two events covered by several outlets
(one as near-identical wire copies), and unrelated single articles, over several days."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_article

FLOOD = [
    ("wire/flood", "Storm Aurora floods the port of Valmont, 312 homes evacuated", "Wire One", "2025-03-14",
     "Storm Aurora flooded the harbour town of Valmont on 14 March, forcing the evacuation of 312 homes. "
     "Mayor Ines Carbo said the sea wall built in 1988 gave way shortly after midnight. "
     "Rescue teams from Brenner county used boats to reach residents trapped on upper floors."),
    ("daily/flood", "Valmont: Storm Aurora forces 312 homes to evacuate as sea wall fails", "Daily Two", "2025-03-14",
     "Storm Aurora flooded the harbour town of Valmont on 14 March and 312 homes had to be evacuated. "
     "The sea wall, built in 1988, gave way shortly after midnight, Mayor Ines Carbo said. "
     "Boats from Brenner county rescue teams reached residents trapped on upper floors."),
    ("coast/flood", "Storm Aurora: Valmont sea wall collapses, hundreds evacuated", "Coast News", "2025-03-15",
     "The sea wall of Valmont collapsed during Storm Aurora on 14 March, and 312 homes were evacuated, "
     "according to Mayor Ines Carbo. Rescue teams from Brenner county are still pumping water out of the "
     "harbour district, where damage is estimated at 40 million euros."),
]
STRIKE = [
    ("wire/strike", "Rail strike halts Tarsberg trains for a second day", "Wire One", "2025-03-13",
     "Train drivers of the Tarsberg rail company stopped work for a second day on 13 March, cancelling 860 "
     "services. The union led by Oskar Lind demands a 9 percent pay rise. Commuters crowded the buses."),
    ("daily/strike", "Tarsberg rail drivers strike again over 9 percent pay demand", "Daily Two", "2025-03-13",
     "The Tarsberg rail strike entered its second day on 13 March with 860 train services cancelled. "
     "Union leader Oskar Lind said drivers would not return without a 9 percent pay rise."),
]
SINGLES = [
    ("food/festival", "A cheese festival opens in the hills of Morvaux", "Food Weekly", "2025-03-12",
     "More than forty cheese makers gathered in Morvaux for the spring festival, where a goat cheese aged "
     "in chestnut leaves won the first prize. Visitors tasted cheeses from six regions."),
    ("sport/chess", "Teenager wins the Lindholm chess open", "Board Games Today", "2025-03-11",
     "A fifteen-year-old player won the Lindholm chess open after a tense final game against the defending "
     "champion, who resigned after five hours in a difficult rook endgame."),
]


def write_stories(corpus: Path) -> dict[str, list[str]]:
    """Write the articles; the ids of each group."""
    groups = {"flood": FLOOD, "strike": STRIKE, "singles": SINGLES}
    for items in groups.values():
        for article_id, title, source, date, body in items:
            write_article(corpus, article_id, title, body, source=source, date=date,
                          url=f"https://{source.lower().replace(' ', '')}.example/{article_id}")
    return {name: [item[0] for item in items] for name, items in groups.items()}
