"""A small Dutch whitepaper by three authors, shared by the export tests and screenshots."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from storage.repository import Person
from wiki.changes import SERVER
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.export import outline as outlines

ANNA = Person("Anna de Vries", "anna@example.org")
BRAM = Person("Bram Öztürk", "bram@example.org")
CHLOE = Person("Chloé Janssen", "chloe@example.org")
SECRET = "TOPSECRET-7f3a9c"


def png(width: int = 120, height: int = 60) -> bytes:
    """A small blue-to-green gradient PNG."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in
                                    (30, 80 + x * 150 // width, 160 - y))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


INTRO = """# Inleiding

Deze whitepaper beschrijft de coördinatie tussen gemeenten. Wij drinken één kop koffie
in het café en bespreken de "kernvragen" -- zonder haast... Zie ook [[Methode]] en
[[Resultaten|de resultaten]].

Een voetnoot over samenwerking[^1].

![Schema](attachments/schema.png)

[^1]: Samenwerking is hier bestuurlijke samenwerking tussen overheden.
"""

METHOD = """# Methode

We werkten in drie rondes. Elke ronde had een vaste opbouw:

| Ronde | Onderwerp | Deelnemers |
|:------|:----------|----------:|
| 1 | Verkenning | 12 |
| 2 | Verdieping | 9 |
| 3 | Afronding | 15 |

```python
def deelnemers(rondes):
    return sum(r.aantal for r in rondes)
```

## Beperkingen

Arbeidsmarktdiscriminatiebestrijdingsprogramma's zijn lastig te meten.
"""

RESULTS = """# Resultaten

De belangrijkste uitkomst: betere coördinatie levert één gedeeld beeld op.
Terug naar de [[Inleiding]].
"""

HOSTILE = f"""# Vijandige pagina

<img src="file:///etc/hostname"> <img src="/etc/hostname"> <img src="file://{{secret}}">
<link rel="stylesheet" href="file:///etc/hostname">
<link rel="attachment" href="file:///etc/hostname">
<style>@import url("file:///etc/hostname"); body {{ background: url(/etc/hostname) }}</style>
<p style="background-image: url('file:///etc/hostname')">Niets te zien.</p>
![x](file:///etc/hostname) ![y](/etc/passwd) ![z](http://127.0.0.1:9/{SECRET})
"""


def make_sample(root: Path, secret_file: Path | None = None) -> Services:
    """A data dir with four chapters by three authors, an image and an outline."""
    services = open_data_dir(Settings.load({"data_dir": str(root)}))
    wiki = services.pages
    services.attachments.add("schema.png", png(), ANNA)
    wiki.save("Inleiding", INTRO, None, ANNA, "Inleiding")
    wiki.save("Methode", METHOD, None, BRAM, "Methode")
    head = wiki.head()
    wiki.save("Methode", METHOD + "\nAanvulling door Chloé over één café.\n", head, CHLOE)
    wiki.save("Resultaten", RESULTS, None, CHLOE, "Resultaten")
    hostile = HOSTILE.replace("{secret}", str(secret_file or "/nonexistent"))
    wiki.save("Vijandig", hostile, None, BRAM, "Hostile")
    outline = outlines.Outline(
        title="Samen sterker", subtitle="Coördinatie tussen gemeenten in de praktijk",
        authors="Werkgroep Regio Oost", pages=("Inleiding", "Methode", "Resultaten", "Vijandig"))
    outlines.save(services.repo, outline, ANNA, services.changes, SERVER)
    return services
