"""A page's languages, by lingua: realistic Dutch, English and bilingual pages (short and
long, prose, lists, tables, glossaries) through the real renderer, and the index's use of
them. The old stopword count got 28 of these 44 right; it put short English pages in
both languages and a bilingual glossary in English only."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.pagetext import page_text
from wiki.render import Renderer

NL, EN, BOTH = ("nl",), ("en",), ("nl", "en")
CORPUS = [
    # short Dutch
    ('# Agenda\n\nWe beginnen om negen uur met koffie.', NL),
    ('# Besluiten\n\nDe werkgroep kiest voor een open aanbesteding.', NL),
    ('Wie neemt de notulen?', NL),
    ('# Actiepunten\n\n- Jan belt de gemeente\n- Fatima schrijft de inleiding\n- Iedereen '
     'leest hoofdstuk twee', NL),
    ('# Locatie\n\nHet gebouw ligt naast het station, de ingang is aan de achterkant.', NL),
    ('Volgende week geen overleg vanwege de feestdagen.', NL),
    ('# Vragen\n\nHoe betrekken we bewoners die niet online zijn?', NL),
    ('# Planning\n\n| Wanneer | Wat |\n|---|---|\n| maandag | eerste versie klaar |\n| '
     'woensdag | feedback verwerken |\n| vrijdag | definitieve tekst |', NL),
    # short English
    ('# Agenda\n\nWe start at nine with coffee.', EN),
    ('# Decisions\n\nThe working group chose an open tender.', EN),
    ('Who takes the minutes?', EN),
    ('# Action items\n\n- Jan calls the council\n- Fatima writes the introduction\n- '
     'Everyone reads chapter two', EN),
    ('# Roadmap\n\nShip the draft by Friday.', EN),
    ('No meeting next week because of the holidays.', EN),
    ('# Questions\n\nHow do we involve residents who are not online?', EN),
    ('# Schedule\n\n| When | What |\n|---|---|\n| Monday | first draft ready |\n| '
     'Wednesday | process feedback |\n| Friday | final text |', EN),
    ('# Sources\n\n- Annual report 2023\n- Interview notes from the site visit\n- The '
     'survey results', EN),
    # long Dutch
    ('# Inleiding\n\nDeze whitepaper beschrijft hoe gemeenten samen met bewoners de '
     'energietransitie in hun wijk kunnen organiseren. We baseren ons op drie jaar '
     'ervaring in vijf wijken, waar bewoners, woningcorporaties en netbeheerders samen '
     'plannen maakten.\n\nIn het eerste hoofdstuk schetsen we de aanleiding. Daarna volgen '
     'de lessen die we hebben geleerd, en tot slot geven we aanbevelingen voor '
     'beleidsmakers.', NL),
    ('# Methode\n\nWe hebben twintig interviews gehouden met betrokkenen. De gesprekken '
     'duurden gemiddeld een uur en zijn letterlijk uitgewerkt. Twee onderzoekers hebben de '
     'transcripten onafhankelijk van elkaar gecodeerd; verschillen zijn besproken tot er '
     'overeenstemming was.', NL),
    ('# Conclusies\n\n1. Vertrouwen ontstaat door kleine, zichtbare stappen.\n2. Bewoners '
     'willen meebeslissen, niet alleen geïnformeerd worden.\n3. Zonder vaste '
     'contactpersoon bij de gemeente verloopt het proces traag.', NL),
    ("# Risico's\n\nHet grootste risico is dat de subsidie stopt voordat de wijk klaar is. "
     'Daarnaast is de capaciteit van het elektriciteitsnet in sommige straten onvoldoende. '
     'We stellen voor om per straat een reserveplan te maken.', NL),
    ('# Begroting\n\n| Post | Bedrag |\n|---|---|\n| Personeel | 120.000 |\n| Materialen | '
     '45.000 |\n| Communicatie en bijeenkomsten | 15.000 |\n\nDe kosten voor communicatie '
     'zijn lager dan vorig jaar omdat we de bijeenkomsten in buurthuizen houden.', NL),
    # long English
    ('# Introduction\n\nThis whitepaper describes how municipalities can organise the '
     'energy transition in their neighbourhoods together with residents. It draws on three '
     'years of experience in five districts, where residents, housing associations and '
     'grid operators made plans together.\n\nThe first chapter sets out the background. '
     'Then follow the lessons we learned, and finally we give recommendations to policy '
     'makers.', EN),
    ('# Method\n\nWe held twenty interviews with stakeholders. The conversations lasted an '
     'hour on average and were transcribed verbatim. Two researchers coded the transcripts '
     'independently; differences were discussed until they agreed.', EN),
    ('# Conclusions\n\n1. Trust grows through small, visible steps.\n2. Residents want to '
     'take part in decisions, not only be informed.\n3. Without a fixed contact person at '
     'the municipality the process is slow.', EN),
    ('# Risks\n\nThe biggest risk is that the subsidy ends before the district is '
     'finished. In addition, the capacity of the power grid is insufficient in some '
     'streets. We propose a fallback plan per street.', EN),
    ('# Budget\n\n| Item | Amount |\n|---|---|\n| Staff | 120,000 |\n| Materials | 45,000 '
     '|\n| Communication and meetings | 15,000 |\n\nCommunication costs are lower than '
     'last year because meetings are held in community centres.', EN),
    ('# Deployment\n\nRun the installer on the server, then open the admin page and create '
     'the first account. Backups are written every night to the shared drive; check the '
     'log after the first night to make sure they ran.\n\n```\ncowiki backup '
     '/srv/backups\n```', EN),
    # English page with Dutch names and places
    ('# Site visit\n\nOn Tuesday we visited the Kanaleneiland district in Utrecht and met '
     "the residents' association of Amsterdamsestraatweg. They showed us how the heat "
     'network is planned.', EN),
    # Dutch page with English loan words
    ('# Teamoverleg\n\nDe deadline voor de eerste draft is vrijdag. Kan iemand de feedback '
     'van de stakeholders in een overzicht zetten? Dan bespreken we dat in de meeting.', NL),
    # bilingual glossaries
    ('# Glossary / Woordenlijst\n\n| Nederlands | English |\n|---|---|\n| gemeente | '
     'municipality |\n| aanbesteding | tender |\n| woningcorporatie | housing association '
     "|\n| netbeheerder | grid operator |\n| bewonersvereniging | residents' association "
     '|\n| wijkaanpak | neighbourhood approach |\n| warmtenet | heat network |', BOTH),
    ('# Woordenlijst\n\n- gemeente — municipality\n- aanbesteding — tender\n- '
     'woningcorporatie — housing association\n- netbeheerder — grid operator\n- '
     'subsidieregeling — grant scheme\n- inspraak — public consultation', BOTH),
    ('# Terms\n\n**Warmtenet**: een netwerk van leidingen dat warmte naar woningen brengt. '
     '\n**Heat network**: a system of pipes that carries heat to '
     'homes.\n\n**Netbeheerder**: het bedrijf dat het elektriciteitsnet beheert.  \n**Grid '
     'operator**: the company that runs the power grid.', BOTH),
    ('# Begrippen\n\n| Term | Betekenis | Meaning |\n|---|---|---|\n| wijkaanpak | een '
     'plan per buurt in plaats van per huis | a plan per neighbourhood instead of per '
     'house |\n| energiecoach | een vrijwilliger die buren helpt energie te besparen | a '
     'volunteer who helps neighbours save energy |', BOTH),
    # bilingual pages: summary in both languages
    ('# Samenvatting / Summary\n\nGemeenten en bewoners kunnen samen de energietransitie '
     'organiseren als ze vroeg beginnen en elkaar vertrouwen.\n\nMunicipalities and '
     'residents can organise the energy transition together if they start early and trust '
     'each other.', BOTH),
    ('# Uitnodiging\n\nJe bent van harte welkom bij de slotbijeenkomst op 12 juni in het '
     'buurthuis.\n\n*English:* You are warmly invited to the closing meeting on 12 June in '
     'the community centre.', BOTH),
    # English page that quotes a little Dutch
    ('# Interview notes\n\nThe chair said the meeting went well. One resident said "we '
     'worden niet gehoord" and others agreed. We will follow up with a letter explaining '
     'the next steps, the timeline and who to contact with questions about the plan.', EN),
    # Dutch page quoting a little English
    ('# Notities\n\nDe voorzitter zei dat het overleg goed ging. Een adviseur noemde het '
     'een "best practice" en anderen waren het daarmee eens. We sturen een brief met de '
     'volgende stappen, de planning en wie je kunt bellen met vragen over het plan.', NL),
    # lists and tables, longer
    ('# Checklist\n\n- [ ] Zaal reserveren\n- [ ] Uitnodiging versturen\n- [ ] Koffie en '
     'thee bestellen\n- [ ] Presentatie klaarzetten\n- [ ] Aanwezigheidslijst printen', NL),
    ('# Checklist\n\n- [ ] Book the room\n- [ ] Send the invitation\n- [ ] Order coffee '
     'and tea\n- [ ] Set up the presentation\n- [ ] Print the attendance list', EN),
    ('# Contacts\n\n| Name | Role | Phone |\n|---|---|---|\n| Anna de Vries | chair | '
     '06-1234 |\n| Pieter Jansen | secretary | 06-5678 |\n| Sara Bakker | treasurer | '
     '06-9012 |', EN),
    ('# Contactpersonen\n\n| Naam | Rol | Telefoon |\n|---|---|---|\n| Anna de Vries | '
     'voorzitter | 06-1234 |\n| Pieter Jansen | secretaris | 06-5678 |\n| Sara Bakker | '
     'penningmeester | 06-9012 |', NL),
    ('# Timeline\n\n- 2021: first pilot in two streets\n- 2022: the council adopts the '
     'approach\n- 2023: five districts join\n- 2024: evaluation and this whitepaper', EN),
    ('# Tijdlijn\n\n- 2021: eerste proef in twee straten\n- 2022: de gemeenteraad neemt de '
     'aanpak over\n- 2023: vijf wijken doen mee\n- 2024: evaluatie en deze whitepaper', NL),
]


GLOSSARY = next(markdown for markdown, _ in CORPUS if markdown.startswith("# Glossary /"))
SHORT_ENGLISH = "# Roadmap\n\nShip the draft by Friday."


def languages(markdown: str, wiki_language: str) -> tuple[str, ...]:
    return page_text(Renderer(), "Page", "0" * 40, markdown, wiki_language).languages


@pytest.mark.parametrize("wiki_language", ["nl", "en"])
def test_detection_gets_nearly_every_realistic_page_right(wiki_language: str) -> None:
    wrong = [(markdown[:40], expected) for markdown, expected in CORPUS
             if set(languages(markdown, wiki_language)) != set(expected)]
    assert len(CORPUS) == 44
    assert len(wrong) <= 2, wrong


def test_bilingual_glossary_is_in_both_languages() -> None:
    assert set(languages(GLOSSARY, "en")) == {"nl", "en"}
    assert set(languages(GLOSSARY, "nl")) == {"nl", "en"}


def test_short_english_page_is_english_only_even_in_a_dutch_wiki() -> None:
    assert languages(SHORT_ENGLISH, "nl") == ("en",)


def test_page_too_short_to_tell_is_in_the_wikis_language() -> None:
    assert languages("Roadmap", "nl") == ("nl",)
    assert languages("Roadmap", "en") == ("en",)


def test_index_uses_the_wikis_language_for_short_pages(tmp_path: Path) -> None:
    services = open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))
    services.language.set("nl")
    author = Person("Anna de Vries", "anna@example.org")
    services.pages.save("Roadmap", "Roadmap", None, author)
    services.pages.save("Plans", SHORT_ENGLISH, None, author)
    services.pages.save("Woordenlijst", GLOSSARY, None, author)
    services.indexer.catch_up()

    def found(query: str, lang: str) -> list[str]:
        return sorted(hit.path for hit in services.indexer.search(query, lang=lang).hits)

    assert found("roadmap", "nl") == ["Roadmap"]
    assert found("roadmap", "en") == ["Plans"]
    assert found("aanbesteding", "nl") == ["Woordenlijst"]
    assert found("tender", "en") == ["Woordenlijst"]
