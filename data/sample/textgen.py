"""Deterministic text generators for the bundled sample corpus (used by build.py).

Everything here is a pure function of a `random.Random` passed in: no clock, no network, no
global state. Three English registers are produced from templates + word lists:

- encyclopedia: formal, neutral, dense with dates, numbers, measurements and named entities;
- books: narrative (characters, dialogue, long paragraphs) and reflective essays;
- web: informal blog / news / forum / shop text (second person, prices, calls to action,
  listicles, short lines, the odd typo).

The registers share their topic nouns and entity names, so a classifier has to learn style, not
one token. Sentences are composed from many small parts (a template is used at most once per
document where that matters) so that long documents do not repeat long n-grams.
Small Chinese / French / German / Spanish generators cover the non-English pages.
"""

from __future__ import annotations

import random
import re
from typing import Callable


def W(s: str) -> list[str]:
    """A word list written as one string: entries separated by '|' (or by spaces if no '|')."""
    if "|" in s:
        return [w.strip() for w in s.split("|") if w.strip()]
    return s.split()


# ----------------------------------------------------------------------------- shared lexicon

FEMALE_NAMES = W("""Anna Clara Margaret Lucy Helen Alice Eleanor Mary Agnes Beatrice Edith Harriet Ingrid
Sofia Marta Elena Irene Rosa Nora Grace Vera Ada Miriam Judith Celia Lena Theodora Isolde Frida""")
MALE_NAMES = W("""Thomas Henry Edward Arthur Walter Samuel Robert Hugh Oliver Francis George Jonas Mateo
Pieter Lukas Tobias Felix Daniel Simon Albert Julian Leon Oscar Victor Rupert Ambrose Caspar Emil""")
FIRST_NAMES = FEMALE_NAMES + MALE_NAMES
LAST_NAMES = W("""Hartley Brennan Okafor Lindqvist Marsh Delacroix Whitcombe Novak Aldridge Ferreira
Holloway Kessler Moreau Pemberton Vance Castellan Thorne Abernathy Kowalski Sutherland Reyes Faulkner
Dunmore Halvorsen Ashdown Mercer Bellamy Quintero Rowntree Stavros Caldwell Iverson Lowther Nakamura
Fairbanks Ostrowski Blackwood Carrow Devereux Ellery Garside Hume Ingram Jessop Kirkland Lister""")
PLACE_A = W("""Varn Ash Castel Bryn Hal Elder Mor Stoke Wen Kings Thorn Gal Rav Dun Fen Oster Lang Marl
Pen Sel Tarn Umber Vel Wick Alder Cold Bram Calder Dor Glen Hart Ivel Kel Lor Nether Quen Ros Sund""")
PLACE_B = W("""holm moor ford bury wick mouth stead haven field dale ton gate brook cliff more
vale worth ley mere by thorpe wood port combe hithe""")
COUNTRIES = W("""Aldoria|Belmark|Corvania|Estrela|Farrowland|Galicorn|Hesperia|Istrenia|Karvelia|Lunmark|Moravel|Norrland|Ostravia|Pellucia|Quessany|Rhovenia|Sardis|Tavaria|Valdermark|Westmoor""")
NATIONALITY = {c: c + "n" if c.endswith("a") else c + "er" if c.endswith("land") else
               c[:-1] + "ian" if c.endswith("s") else c + "ian" for c in COUNTRIES}
MONTHS = W("January February March April May June July August September October November December")
ORDINALS = W("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth")

TOPICS: dict[str, dict[str, list[str]]] = {
    "history": {
        "noun": W("""treaty|dynasty|charter|monastery|fortress|trade route|harbour|province|garrison|guild
|council|archive|manuscript|siege|alliance|colony|republic|succession|reform|cathedral|toll bridge
|royal court|market town|land survey|tax roll|city wall|abbey|border march"""),
        "person": W("king|queen|merchant|bishop|general|chronicler|envoy|governor|scholar|abbot|magistrate|duke"),
        "field": W("medieval history|economic history|military history|diplomatic history|archaeology"),
    },
    "science": {
        "noun": W("""theory|experiment|particle|molecule|compound|observatory|telescope|spectrum|reaction
|hypothesis|measurement|crystal|isotope|laboratory|equation|magnetic field|wavelength|catalyst
|semiconductor|solvent|detector|orbit|comet|alloy|polymer|vacuum pump|electrode"""),
        "person": W("physicist|chemist|astronomer|mathematician|geologist|engineer|instrument maker"),
        "field": W("physics|chemistry|astronomy|materials science|optics|thermodynamics|crystallography"),
    },
    "geography": {
        "noun": W("""river|valley|plateau|glacier|delta|coastline|mountain range|lake|island|basin|estuary
|peninsula|watershed|highland|lowland|fjord|salt marsh|moorland|gorge|headland|sandbar|floodplain"""),
        "person": W("surveyor|cartographer|explorer|geographer|hydrologist|mountaineer"),
        "field": W("physical geography|hydrology|geomorphology|cartography|climatology"),
    },
    "biology": {
        "noun": W("""species|genus|habitat|predator|enzyme|cell|organism|population|breeding season|plumage
|larva|root system|forest canopy|wetland|pollinator|seed bank|migration route|nesting site|gut flora
|fungus|lichen|coral reef|hedgerow|moth|heron|salamander|orchid|beetle|otter"""),
        "person": W("botanist|zoologist|naturalist|ecologist|entomologist|ornithologist|geneticist"),
        "field": W("ecology|botany|zoology|genetics|entomology|marine biology|ornithology"),
    },
    "technology": {
        "noun": W("""processor|network|protocol|compiler|database|sensor|battery|algorithm|interface
|operating system|server|microcontroller|software library|storage device|router|display panel
|file system|programming language|search engine|wireless standard|graphics card|firmware"""),
        "person": W("programmer|engineer|designer|inventor|researcher|systems architect"),
        "field": W("computer science|electrical engineering|software engineering|telecommunications"),
    },
    "sports": {
        "noun": W("""club|tournament|league|championship|stadium|season|striker|coach|final|match|cup
|relay|marathon|world record|rowing crew|cycling team|goalkeeper|derby|velodrome|training ground"""),
        "person": W("footballer|athlete|cyclist|rower|coach|referee|cricketer|sprinter"),
        "field": W("association football|athletics|rowing|cycling|cricket|rugby union"),
    },
    "arts": {
        "noun": W("""symphony|orchestra|opera|gallery|sonata|fresco|exhibition|album|string quartet
|altarpiece|novel|theatre|choir|sculpture|woodcut|concert hall|libretto|portrait"""),
        "person": W("composer|painter|sculptor|poet|architect|conductor|novelist|organist"),
        "field": W("music|painting|architecture|literature|sculpture|theatre"),
    },
    "economics": {
        "noun": W("""market|tariff|currency|bank|harvest|textile mill|railway|exports|wages|industry|port
|cooperative|stock exchange|shipyard|brewery|coal mine|wool trade|trading company|customs house"""),
        "person": W("economist|banker|industrialist|trader|shipowner|financier"),
        "field": W("economics|economic history|finance|trade policy"),
    },
}
TOPIC_NAMES = sorted(TOPICS)


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def place(rng: random.Random) -> str:
    return rng.choice(PLACE_A) + rng.choice(PLACE_B)


def year(rng: random.Random, lo: int = 1620, hi: int = 2021) -> int:
    return rng.randint(lo, hi)


def date(rng: random.Random, lo: int = 1700, hi: int = 2021) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {year(rng, lo, hi)}"


def num(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi):,}"


def a_an(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def fill(rng: random.Random, template: str, slots: dict[str, Callable[[], str]]) -> str:
    """Replace {name} in a template by calling slots[name]() (each occurrence drawn anew)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(slots[m.group(1)]()), template)


class Picker:
    """Draws from a list without replacement (refilling, reshuffled, when it runs out), so a
    document uses each template once before any is used twice."""

    def __init__(self, rng: random.Random, items: list[str]):
        self.rng, self.items, self.pool = rng, list(items), []

    def __call__(self) -> str:
        if not self.pool:
            self.pool = list(self.items)
            self.rng.shuffle(self.pool)
        return self.pool.pop()


# ----------------------------------------------------------------------------- encyclopedia

ENC_ADJ = W("""principal|northern|southern|eastern|western|largest|oldest|notable|prominent|early|
historic|regional|municipal|coastal|upland|industrial|agricultural|administrative|ecclesiastical|
independent|provincial|rural|urban|maritime|former|present-day|medieval|neoclassical""")
ENC_ADV = W("subsequently|predominantly|approximately|largely|primarily|notably|formally|initially|gradually|eventually|officially|partially")
ENC_LINK = W("""However,|In addition,|Following this,|By contrast,|As a result,|Consequently,|Nevertheless,|Meanwhile,|Furthermore,|In the same period,|During this time,|Thereafter,""")

ENC_GENERIC = [
    "{link} the {noun} was {adv} administered by the {org} until {yr}.",
    "In {yr}, the {noun} was reorganised under the terms of the {place} Agreement.",
    "The {noun} has been the subject of several studies, including a survey published by {pers} in {yr}.",
    "Records from {yr} indicate that {n1} people were employed in the {noun} and related trades.",
    "{link} {pers} described the {noun} in a report to the {org}, noting its {adj} character.",
    "The earliest surviving reference dates from {yr}, when it appears in a charter of the {org}.",
    "By the end of the {ord} decade of the {cent} century, the {noun} had declined in importance.",
    "Between {yr} and {yr2}, the population rose from {n1} to {n2}.",
    "It is one of {smalln} {noun}s of its kind in {country} listed by the {org}.",
    "The {adj} {noun} was rebuilt in {yr} to designs by the architect {pers}.",
    "{link} a {adj} {noun} was established nearby in {yr}, attracting settlers from {place}.",
    "Its annual budget in {yr} was estimated at {n1} {currency}.",
    "The {org} acquired the site in {yr} and opened it to the public in {yr2}.",
    "Estimates of its age vary; a study published in {yr} placed its origin in the {cent} century.",
    "The name is first attested in {yr} as {place}, a form derived from an older {lang} word.",
    "Much of the surviving documentation is held in the archives of the {org} in {place}.",
    "The {noun} is classified as {a_adj} feature under the {yr} national heritage register.",
    "A second phase of construction, completed in {yr}, added {smalln} wings and a central hall.",
    "The site covers {area}, of which about {pct} per cent is woodland.",
    "Average annual rainfall is {rain} millimetres, most of it falling between {month} and {month2}.",
    "Several {adj} {noun}s in the area were damaged during the flood of {yr} and later restored.",
    "The {org} recorded {n1} visitors in {yr}, an increase of {pct} per cent over the previous year.",
    "Its {adj} layout has been compared with that of {place}, which was planned in the same period.",
    "{pers}, writing in {yr}, considered it the most {adj} {noun} in the province.",
    "The {noun} was granted protected status in {yr} after a campaign led by local residents.",
    "A museum dedicated to its history, opened in {yr}, holds about {n1} objects.",
    "In the census of {yr}, {pct} per cent of residents reported {lang} as their first language.",
    "The {ord} edition of the survey, issued in {yr}, corrected several errors in earlier maps.",
    "Access is by a regional road, opened in {yr}, which links it with {place} and {place2}.",
    "{link} responsibility passed to the {org}, which retains it as of {yr}.",
]

ENC_KINDS: dict[str, dict] = {
    "settlement": {
        "topic": "geography",
        "lead": "'''{title}''' is {a_adj} town and {kind2} in the {region} region of {country}, situated on the {river} about {distmi} {dir} of {place}. At the {yr} census it had a population of {n1}.",
        "sections": ["History", "Geography", "Economy", "Demographics", "Transport", "Notable people"],
        "templates": [
            "The town grew up around a {hnoun} founded in {yr} by {pers}.",
            "It received a market charter in {yr} and became the seat of the {region} district in {yr2}.",
            "The old town lies on the left bank of the {river}, at an elevation of {elevft}.",
            "The climate is temperate, with a mean January temperature of {temp} degrees Celsius.",
            "The local economy was historically based on the {enoun}, which employed {n1} workers at its peak in {yr}.",
            "A railway station on the {place}–{place2} line opened in {yr} and closed to passengers in {yr2}.",
            "The parish church of St {first} dates largely from the {cent} century.",
            "In {yr} the town was twinned with {place} in {country2}.",
            "The {river} flows through the town from {dir} to {dir2} and is crossed by {smalln} bridges.",
            "Industry declined after {yr}, and by {yr2} the largest employers were the district council and the hospital.",
            "Its coat of arms, granted in {yr}, shows a {heraldic} on a {tincture} field.",
            "The town hall, completed in {yr}, houses the municipal council of {councilN} members.",
        ],
        "infobox": "Infobox settlement",
    },
    "person": {
        "topic": None,
        "lead": "'''{title}''' ({date1} – {date2}) was {a_nat} {role} known for {known}. {she_cap} was born in {place} and spent most of {her} career in {place2}.",
        "sections": ["Early life", "Career", "Later life", "Legacy", "Selected works"],
        "templates": [
            "{she_cap} was educated at the {org} and graduated in {yr}.",
            "{her_cap} first major work, published in {yr}, was received favourably by contemporary critics.",
            "In {yr} {she} was appointed to a post at the {org}, which {she} held for {smalln} years.",
            "{she_cap} married {pers} in {yr}; they had {smalln} children.",
            "{she_cap} corresponded with {pers} from {yr} until {her} death.",
            "{her_cap} papers, numbering some {n1} items, were deposited with the {org} in {yr}.",
            "{she_cap} was elected a fellow of the {org} in {yr}.",
            "After {yr} {she} withdrew from public life and settled in {place}.",
            "A biography by {pers} appeared in {yr}.",
            "{she_cap} received the {place} Medal in {yr} for {her} contributions to {field}.",
            "{her_cap} methods influenced a generation of {role}s in {country}.",
            "A street in {place} was named after {her} in {yr}.",
        ],
        "infobox": "Infobox person",
    },
    "species": {
        "topic": "biology",
        "lead": "'''{title}''' is a species of {bclass} in the family {family}. It is native to {region} {country}, where it inhabits {habitat}. It was first described by {pers} in {yr}.",
        "sections": ["Taxonomy", "Description", "Distribution and habitat", "Behaviour", "Conservation"],
        "templates": [
            "Adults measure {len1} to {len2} centimetres in length and weigh up to {wt} grams.",
            "The species is found at elevations between {elev} and {elev3} metres.",
            "Breeding takes place between {month} and {month2}, and clutches contain {smalln} to {smalln2} eggs.",
            "Its diet consists mainly of insects, seeds and small invertebrates.",
            "The specific name honours {pers}, who collected the type specimen in {yr}.",
            "The population was estimated at {n1} mature individuals in {yr}.",
            "It is listed as {status} on the IUCN Red List.",
            "The upper parts are {colour} and the underparts paler, with a {colour2} band across the {part}.",
            "Two subspecies are recognised, separated by the {river} basin.",
            "Loss of {habitat} to agriculture is considered the main threat.",
            "Genetic studies published in {yr} placed it closest to a species from {country2}.",
            "It is largely nocturnal and spends the day in burrows or dense vegetation.",
        ],
        "infobox": "Speciesbox",
    },
    "concept": {
        "topic": None,
        "lead": "In {field}, the '''{title}''' is {a_adj} {tnoun} used to describe {desc}. The term was introduced by {pers} in {yr} and is now standard in the literature.",
        "sections": ["History", "Definition", "Applications", "Criticism", "See also"],
        "templates": [
            "The idea was developed further by {pers} at the {org} during the {decade}s.",
            "A formal definition was given in {yr}, in terms of a {tnoun} and its associated {tnoun2}.",
            "Early measurements, reported in {yr}, agreed with the prediction to within {pct} per cent.",
            "The {tnoun} has been applied to problems in {field2} and {field3}.",
            "Critics have argued that the model underestimates the role of the {tnoun2}.",
            "By {yr} more than {n1} papers had cited the original article.",
            "The method requires approximately {smalln} stages and can be carried out at room temperature.",
            "An improved version, described in {yr}, reduced the error by a factor of {smalln}.",
            "It is closely related to the {title2}, from which it differs mainly in its treatment of the {tnoun}.",
            "Textbooks since {yr} have presented it as a special case of a more general result.",
            "The first practical demonstration took place at the {org} in {yr}.",
            "Standard values are tabulated in the handbook published by the {org}.",
        ],
        "infobox": "Infobox scientific concept",
    },
    "club": {
        "topic": "sports",
        "lead": "'''{title}''' is a professional {sport} club based in {place}, {country}. Founded in {y0}, the club competes in the {league} and plays its home matches at {place2} Park, which has a capacity of {n1}.",
        "sections": ["History", "Stadium", "Honours", "Players", "Rivalries"],
        "templates": [
            "The club was formed by workers at the local {enoun} in {yr}.",
            "It won its first national championship in the {yr} season under the coach {pers}.",
            "The club was relegated in {yr} and returned to the top division in {yr2}.",
            "Its record attendance of {n1} was set against {place} in {yr}.",
            "The stadium was rebuilt in {yr} at a cost of {n2} {currency}.",
            "The club's traditional colours are {colour} and {colour2}.",
            "{pers} holds the record for most appearances, with {apps} league matches between {yr} and {yr2}.",
            "The club reached the final of the national cup {smalln} times, winning in {yr}.",
            "A youth academy was established in {yr} and has produced several international players.",
            "The rivalry with {place} dates from a disputed match in {yr}.",
            "In {yr} the club was purchased by a consortium led by {pers}.",
            "The club finished {ordx} in the {yr} season, its best result since {yr2}.",
        ],
        "infobox": "Infobox football club",
    },
    "event": {
        "topic": "history",
        "lead": "The '''{title}''' was {a_adj} conflict fought between {country} and {country2} from {yr} to {yr2}. It ended with the Treaty of {place}, under which {country} ceded the {region} province.",
        "sections": ["Background", "Course of the war", "Aftermath", "Historiography"],
        "templates": [
            "Tensions had risen after {yr}, when {country2} imposed a tariff on {enoun} passing through {place}.",
            "The first engagement took place near {place} on {date}.",
            "An army of about {n1} men under {pers} crossed the {river} in {month} {yr}.",
            "The siege of {place} lasted {smalln} months and ended with the surrender of the garrison.",
            "Casualties on both sides are estimated at {n2} killed or wounded.",
            "Negotiations opened at {place} in {yr} under the mediation of {country3}.",
            "The war left {country} heavily in debt, and taxes were raised in {yr}.",
            "Historians have disagreed about the causes; {pers} emphasised economic rivalry.",
            "A memorial to the fallen was unveiled at {place} in {yr}.",
            "Contemporary accounts were collected and published by {pers} in {yr}.",
            "The treaty fixed the border along the {river}, where it remains today.",
            "Naval operations were limited to the blockade of {place} between {yr} and {yr2}.",
        ],
        "infobox": "Infobox military conflict",
    },
    "company": {
        "topic": "technology",
        "lead": "'''{title}''' is {a_nat} manufacturer of {products}, headquartered in {place}. Founded in {y0} by {pers}, it employed {n1} people in {yr2} and reported revenue of {n2} million {currency}.",
        "sections": ["History", "Products", "Operations", "Corporate affairs"],
        "templates": [
            "The company began as a small workshop producing {tnoun}s for the {enoun}.",
            "It was listed on the {place} stock exchange in {yr}.",
            "In {yr} it acquired its main competitor, {place} Instruments, for {n2} million {currency}.",
            "Its first {tnoun} was introduced in {yr} and sold about {n1} units.",
            "Manufacturing moved to a new plant at {place} in {yr}.",
            "Research and development accounted for {pct} per cent of revenue in {yr}.",
            "The company has subsidiaries in {country2} and {country3}.",
            "{pers} served as chief executive from {yr} to {yr2}.",
            "A recall of {n1} units was announced in {yr} after a defect in the {tnoun} was found.",
            "The firm's archive is held by the {org}.",
            "In {yr} the company adopted its present name.",
            "Exports accounted for {pct} per cent of sales in {yr}.",
        ],
        "infobox": "Infobox company",
    },
}

ORG_KIND = W("Society|Institute|Academy|University|Museum|Library|Commission|Survey|Company|Foundation|College|Board of Trade")
CURRENCY = W("crowns|marks|florins|thalers|ducats")
LANGS = W("Old Norse|Latin|Old English|Low German|Celtic|Frankish")
HERALDIC = W("silver fish|golden lion|black eagle|red tower|blue wheel|green oak")
TINCTURE = W("red|blue|green|gold|silver|black")
COLOURS = W("brown|grey|olive|chestnut|slate-blue|buff|rufous|cream|dark green|red|white|black|yellow")
BCLASS = W("bird|frog|beetle|moth|fish|flowering plant|lizard|shrew|bat|snail")
HABITATS = W("montane forest|lowland rainforest|dry scrubland|freshwater marshes|rocky coastlines|alpine meadows|river margins|peat bogs")
STATUS = W("Least Concern|Near Threatened|Vulnerable|Endangered")
SPORTS = W("football|rugby union|ice hockey|basketball|handball")
PRODUCTS = W("precision instruments|electronic components|industrial sensors|storage systems|telecommunications equipment|measuring devices")
TNOUNS = W("coefficient|function|model|operator|constant|invariant|principle|effect|process|method|distribution|series")
DESCS = W("""the behaviour of a system near equilibrium|the rate at which heat is exchanged|the distribution of energy among modes
|the scattering of light by small particles|the growth of crystals from solution|the motion of charged particles in a field""")


def enc_slots(rng: random.Random, ctx: dict) -> dict[str, Callable[[], str]]:
    topic = TOPICS[ctx["topic"]]
    y0 = ctx.get("y0", 1700)
    state = {"last": y0}

    def _yr() -> str:
        state["last"] = year(rng, y0, 2016)
        return str(state["last"])

    def _conv(lo: int, hi: int, unit: str, unit2: str, f: float) -> str:
        v = rng.randint(lo, hi)
        return f"{v:,} {unit} ({round(v * f):,} {unit2})"

    s: dict[str, Callable[[], str]] = {
        "title": lambda: ctx["title"],
        "title2": lambda: ctx.get("title2", "standard model"),
        "noun": lambda: rng.choice(topic["noun"]),
        "hnoun": lambda: rng.choice(TOPICS["history"]["noun"]),
        "enoun": lambda: rng.choice(TOPICS["economics"]["noun"]),
        "tnoun": lambda: ctx.get("tnoun", "model"),
        "tnoun2": lambda: rng.choice(TNOUNS),
        "adj": lambda: rng.choice(ENC_ADJ),
        "a_adj": lambda: a_an(rng.choice(ENC_ADJ)),
        "adv": lambda: rng.choice(ENC_ADV),
        "link": lambda: rng.choice(ENC_LINK),
        "pers": lambda: person(rng),
        "first": lambda: rng.choice(FIRST_NAMES),
        "org": lambda: f"{place(rng)} {rng.choice(ORG_KIND)}",
        "place": lambda: place(rng),
        "place2": lambda: place(rng),
        "country": lambda: ctx["country"],
        "country2": lambda: rng.choice([c for c in COUNTRIES if c != ctx["country"]]),
        "country3": lambda: rng.choice(COUNTRIES),
        "a_nat": lambda: a_an(NATIONALITY[ctx["country"]]),
        "region": lambda: ctx["region"],
        "river": lambda: ctx["river"],
        "yr": lambda: _yr(),
        "y0": lambda: str(y0),
        "yr2": lambda: str(rng.randint(min(state["last"] + 1, 2021), min(state["last"] + 45, 2021))),
        "yr3": lambda: str(year(rng, 1000, 1600)),
        "date": lambda: date(rng, y0, 2021),
        "date1": lambda: ctx["date1"],
        "date2": lambda: ctx["date2"],
        "decade": lambda: str(rng.randint(185, 201) * 10),
        "cent": lambda: rng.choice(["fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"]),
        "ord": lambda: rng.choice(ORDINALS[:6]),
        "ordx": lambda: rng.choice(W("second third fourth fifth sixth")),
        "n1": lambda: num(rng, 800, 95000),
        "n2": lambda: num(rng, 120, 9800),
        "apps": lambda: str(rng.randint(300, 640)),
        "smalln": lambda: rng.choice(W("two three four five six seven eight")),
        "smalln2": lambda: rng.choice(W("nine ten eleven twelve")),
        "councilN": lambda: str(rng.randint(9, 41)),
        "pct": lambda: str(rng.randint(3, 78)),
        "area": lambda: _conv(40, 9000, "hectares", "acres", 2.471),
        "elevft": lambda: _conv(20, 1400, "metres", "ft", 3.281),
        "distmi": lambda: _conv(6, 140, "kilometres", "mi", 0.6214),
        "area2": lambda: num(rng, 100, 22000),
        "rain": lambda: str(rng.randint(420, 1900)),
        "temp": lambda: f"{rng.uniform(-9, 9):.1f}",
        "elev": lambda: str(rng.randint(20, 1400)),
        "elev2": lambda: str(rng.randint(60, 4600)),
        "elev3": lambda: str(rng.randint(1500, 3200)),
        "dist": lambda: str(rng.randint(6, 140)),
        "dist2": lambda: str(rng.randint(4, 87)),
        "dir": lambda: rng.choice(W("north south east west north-east south-west")),
        "dir2": lambda: rng.choice(W("north south east west")),
        "month": lambda: rng.choice(MONTHS[:6]),
        "month2": lambda: rng.choice(MONTHS[6:]),
        "currency": lambda: rng.choice(CURRENCY),
        "lang": lambda: rng.choice(LANGS),
        "heraldic": lambda: rng.choice(HERALDIC),
        "tincture": lambda: rng.choice(TINCTURE),
        "colour": lambda: rng.choice(COLOURS),
        "colour2": lambda: rng.choice(COLOURS),
        "kind2": lambda: rng.choice(W("municipality|civil parish|district capital|commune")),
        "role": lambda: ctx.get("role", "scholar"),
        "known": lambda: ctx.get("known", "work on regional history"),
        "field": lambda: ctx.get("field", rng.choice(topic["field"])),
        "field2": lambda: rng.choice(TOPICS[rng.choice(TOPIC_NAMES)]["field"]),
        "field3": lambda: rng.choice(TOPICS[rng.choice(TOPIC_NAMES)]["field"]),
        "she": lambda: ctx.get("she", "she"),
        "she_cap": lambda: cap(ctx.get("she", "she")),
        "her": lambda: ctx.get("her", "her"),
        "her_cap": lambda: cap(ctx.get("her", "her")),
        "bclass": lambda: ctx.get("bclass", "bird"),
        "family": lambda: ctx.get("family", "Corvidae"),
        "habitat": lambda: ctx.get("habitat", "montane forest"),
        "len1": lambda: str(rng.randint(4, 30)),
        "len2": lambda: str(rng.randint(31, 90)),
        "wt": lambda: str(rng.randint(12, 900)),
        "status": lambda: rng.choice(STATUS),
        "part": lambda: rng.choice(W("breast throat wing tail")),
        "sport": lambda: ctx.get("sport", "football"),
        "league": lambda: f"{ctx['country']} {rng.choice(['Premier League', 'First Division', 'National League'])}",
        "products": lambda: rng.choice(PRODUCTS),
        "desc": lambda: rng.choice(DESCS),
    }
    return s


def encyclopedia_entity(rng: random.Random, kind: str) -> dict:
    """An entity for an encyclopedia article: title + the facts its sentences draw on."""
    ctx: dict = {"kind": kind, "country": rng.choice(COUNTRIES), "region": place(rng),
                 "river": "River " + place(rng).capitalize(), "topic": ENC_KINDS[kind]["topic"] or rng.choice(TOPIC_NAMES)}
    if kind == "settlement":
        ctx["title"] = place(rng)
    elif kind == "person":
        female = rng.random() < 0.5
        ctx.update(she="she" if female else "he", her="her" if female else "his")
        ctx["title"] = f"{rng.choice(FEMALE_NAMES if female else MALE_NAMES)} {rng.choice(LAST_NAMES)}"
        topic = TOPICS[ctx["topic"]]
        ctx["role"] = rng.choice(topic["person"])
        ctx["field"] = rng.choice(topic["field"])
        b = year(rng, 1700, 1930)
        ctx["date1"], ctx["date2"] = date(rng, b, b), date(rng, b + 40, b + 90)
        ctx["y0"] = b + 18
        ctx["known"] = f"{rng.choice(['work on', 'studies of', 'contributions to', 'writings on'])} {rng.choice(topic['noun'])}s"
    elif kind == "species":
        g = rng.choice(W("Aegithal Corvin Rana Calos Lept Pachy Micr Tacho Sylv Hyla Nemor Petr"))
        ctx["title"] = f"{g}{rng.choice(['us', 'ia', 'is', 'ops'])} {rng.choice(W('montanus borealis minor gracilis rufus varius maculatus silvestris'))}"
        ctx["bclass"], ctx["habitat"] = rng.choice(BCLASS), rng.choice(HABITATS)
        ctx["family"] = g + rng.choice(["idae", "inae"])
    elif kind == "concept":
        ctx["tnoun"] = rng.choice(TNOUNS)
        ctx["title"] = f"{rng.choice(LAST_NAMES)} {ctx['tnoun']}"
        ctx["title2"] = f"{rng.choice(LAST_NAMES)} {rng.choice(TNOUNS)}"
        ctx["field"] = rng.choice(TOPICS[rng.choice(['science', 'technology', 'economics'])]["field"])
    elif kind == "club":
        ctx["sport"] = rng.choice(SPORTS)
        ctx["title"] = f"{place(rng)} {rng.choice(['FC', 'United', 'Athletic', 'Rovers', 'SC'])}"
        ctx["y0"] = rng.randint(1870, 1960)
    elif kind == "event":
        ctx["title"] = f"{place(rng)} War"
    elif kind == "company":
        ctx["title"] = f"{rng.choice(LAST_NAMES)} {rng.choice(['Instruments', 'Electronics', 'Systems', 'Works', 'Optics'])}"
        ctx["tnoun"] = rng.choice(TOPICS["technology"]["noun"])
        ctx["y0"] = rng.randint(1850, 1990)
    return ctx


def encyclopedia_sentences(rng: random.Random, ctx: dict) -> tuple[str, Callable[[], str]]:
    """The lead sentence and a sentence source (kind-specific then generic templates, no repeats)."""
    kind = ENC_KINDS[ctx["kind"]]
    slots = enc_slots(rng, ctx)
    lead = fill(rng, kind["lead"], slots)
    own, generic = list(kind["templates"]), list(ENC_GENERIC)
    rng.shuffle(own)
    rng.shuffle(generic)

    def next_sentence() -> str:
        """The next sentence, or "" once every template has been used (an article never repeats one)."""
        src = own if own and (not generic or rng.random() < 0.5) else generic
        return fill(rng, src.pop(), slots) if src else ""

    return lead, next_sentence


# ----------------------------------------------------------------------------- books (narrative)

B_ADJ = W("""grey narrow quiet cold bright heavy empty crooked pale distant low warm damp silent old
broken faded wide thin dark golden soft bitter steep small familiar strange tired patient careful
restless solemn weathered shabby polished tall hollow""")
B_NOUN = W("""window door lamp letter road garden staircase kitchen river bridge hill orchard field
fire chair table shawl coat hat basket cart horse dog carriage hedge gate wall shutter candle
clock mirror path lane harbour boat sail chapel bell well barn cottage inn parlour attic cellar
trunk desk pen book map key ribbon cup kettle stove corridor courtyard meadow shore pier""")
B_NOUN_ABS = W("""silence memory fear hope grief pride shame patience doubt kindness anger weariness
longing dread relief gratitude loneliness suspicion tenderness resolve""")
B_VERB_INTRANS = W("""walked|turned away|hesitated|waited|paused|smiled|sighed|laughed softly|stood up
|sat down|looked up|went out|came back|stopped|listened|nodded|shivered|wandered off|lingered
|knelt|leaned forward|stepped back|fell silent|crossed the room|climbed the stairs""")
B_VERB_TRANS = W("""opened|closed|lifted|folded|carried|studied|watched|held|touched|mended|lit|
searched|unlocked|set down|picked up|gathered|brushed|examined|dragged|straightened|wiped""")
B_PERCEIVE = W("heard|saw|noticed|felt|remembered|understood|recognised|sensed|suspected")
B_ADVERB = W("""slowly quietly suddenly carefully absently gently wearily stiffly gravely
thoughtfully anxiously patiently reluctantly softly briskly""")
B_PREP_PH = [
    "along the {adj} {noun}", "beside the {noun}", "towards the {noun}", "across the {noun}",
    "under the {adj} {noun}", "at the edge of the {noun}", "through the {noun}", "into the {noun}",
    "past the {adj} {noun}", "by the {noun}", "near the {noun}", "behind the {noun}",
    "down the {noun}", "out of the {noun}", "round the corner of the {noun}", "over the {noun}",
]
B_TIME = W("""That evening|At dawn|Before long|Some hours later|In the morning|By noon|After supper
|Towards midnight|The next day|For a while|Later that week|At last|Presently|All that winter
|When the rain stopped|Long after the others had gone""", )
B_SIMILE = [
    "like a {noun} left out in the rain", "as if someone had forgotten it there",
    "like the inside of an old {noun}", "as though it had been waiting for years",
    "like water at the bottom of a {noun}", "as quiet as a {noun} in winter",
]
B_UTT = [
    "I never meant to {vb} the {noun}", "You ought to have told me about the {noun}",
    "We cannot stay here much longer", "Do you remember the {noun} at {placeN}",
    "It was not my fault, whatever they say", "Someone has been in the {noun} again",
    "If we leave now we may reach {placeN} by nightfall", "I saw {nameN} by the {noun} this morning",
    "There is nothing left to {vb}", "What would your mother have said",
    "You are braver than you think", "Let me {vb} it for you", "Nobody goes up there after dark",
    "I have been thinking about what you said", "Is it true that {nameN} has gone",
    "The {noun} will not hold another winter", "Tell me again how it happened",
    "I should have listened to you", "We will need more than {noun}s and promises",
    "Why did you keep the {noun}", "Go on, then", "It is later than you think",
    "He used to sit by that {noun} every evening", "She will come back, you'll see",
    "You have no idea what it cost me", "Promise me you won't tell {nameN}",
    "I had forgotten how cold it gets here", "That is not what I asked",
    "They say the {noun} belonged to {nameN} once", "Perhaps it is better this way",
]
B_VB = W("mend forget sell carry lose keep burn hide explain finish answer open")
B_SAY = W("said|asked|replied|whispered|answered|murmured|called|went on|admitted|insisted")


B_ADJ += W("""muddy frozen cracked sunlit crowded lonely velvet rusted whitewashed gleaming sodden
dusty cramped draughty trembling scarred gentle stubborn hushed sullen brittle""")
B_NOUN += W("""fence ladder bucket blanket scarf lantern wagon ferry quay smithy mill chimney hearth
porch verandah kitchen-garden gravel pond willow elm oak birch rooftop steeple market stall""")
B_VERB_INTRANS += W("""shrugged|frowned|coughed|waved|hurried on|slipped out|stayed behind|looked away
|went upstairs|came in|set off|turned back|kept walking|sat very still|stood at the window""")
B_VERB_TRANS += W("""polished|counted|tied|untied|swept|filled|emptied|read|tore|hid|buried|sold|borrowed
|returned|locked|fastened|painted|sharpened|weighed|measured""")
B_NOUN_VERB = W("""creaked|rattled|glowed|swung open|gave way|flickered|shook|groaned|went out|fell silent
|dripped|banged shut|began to hum|tilted|slid|cracked""")
B_PREPS = W("""along|beside|towards|across|under|through|into|past|by|near|behind|down|over|beyond
|against|around|above|below|inside|outside""")
B_OPENERS = W("""That evening|At dawn|Before long|In the morning|By noon|After supper|Towards midnight
|The next day|For a while|Later|At last|Presently|All that winter|Without a word|At first|In the end
|After a moment|Even then|Once|Twice that week|On Sunday|Just before dark|In the grey light|Outside
|Upstairs|Meanwhile|For some reason|Afterwards|Again|Still""")
B_GROUPS = W("old men|children|travellers|neighbours|the Carrows|the fishermen|the farmers|the young ones|the women at the well|the soldiers")
B_MODALS = W("must|should|could|will|might|cannot|would")
B_WHEN = W("""before dark|tonight|tomorrow|in the spring|after the harvest|when the snow comes|before your father
|this week|at once|by Sunday|while we can|next year""")
B_VB += W("find mend fetch paint sell return bury count fasten read")


def book_sentence_maker(rng: random.Random, names: list[str], places: list[str]) -> dict[str, Callable[[], str]]:
    """Narrative and dialogue sentences composed from small parts (no long fixed strings, so a
    book-length text does not repeat long n-grams)."""
    c = rng.choice

    def np_(adj_p: float = 0.5) -> str:
        return ("the " + c(B_ADJ) + " " if rng.random() < adj_p else "the ") + c(B_NOUN)

    def pp() -> str:
        return f"{c(B_PREPS)} {np_(0.45)}"

    def subj() -> str:
        r = rng.random()
        if r < 0.55:
            return c(names)
        if r < 0.8:
            return c(["he", "she", "they"])
        return "the " + c(["old man", "girl", "stranger", "doctor", "boy", "woman", "landlord", "priest", "carter", "widow", "clerk", "ferryman"])

    def core(s: str) -> str:
        f = rng.randrange(11)
        if f == 0:
            return f"{s} {c(B_VERB_INTRANS)} {pp()}"
        if f == 1:
            return f"{s} {c(B_VERB_TRANS)} {np_()}"
        if f == 2:
            return f"{s} {c(B_VERB_TRANS)} {np_(0.3)} {pp()}"
        if f == 3:
            return f"{s} {c(B_PERCEIVE)} that {np_(0.2)} was {c(B_ADJ)}"
        if f == 4:
            return f"{np_()} {c(B_NOUN_VERB)} {pp()}" if rng.random() < 0.5 else f"{np_()} {c(B_NOUN_VERB)}"
        if f == 5:
            return f"{s} had not {c(['seen', 'touched', 'opened', 'mentioned', 'thought of'])} {np_()} since {c(['the funeral', 'the summer', 'childhood', 'the war', 'the wedding', 'that night', 'the fire'])}"
        if f == 6:
            return f"there was {a_an(c(B_ADJ))} {c(B_NOUN)} {pp()}"
        if f == 7:
            return f"{s} could {c(['see', 'hear', 'smell', 'just make out'])} {np_()} {pp()}"
        if f == 8:
            return f"{np_(0.2)} {c(['was', 'seemed', 'looked', 'had grown'])} {c(B_ADJ)} and {c(B_ADJ)}"
        if f == 9:
            return f"{s} {c(['thought of', 'remembered', 'dreamed of', 'spoke of'])} {c(places)} and {c(['its', 'the'])} {c(B_NOUN_ABS)}"
        return f"{s} {c(B_VERB_INTRANS)}, {c(B_ADVERB)}"

    def tail() -> str:
        f = rng.randrange(7)
        if f == 0:
            return f", and {core(subj())}"
        if f == 1:
            return f", while {core(subj())}"
        if f == 2:
            return f" until {np_(0.3)} {c(B_NOUN_VERB)}"
        if f == 3:
            return f", {c(['holding', 'carrying', 'watching', 'ignoring', 'clutching', 'avoiding'])} {np_()}"
        if f == 4:
            return f", though {c(['nobody', 'no one', c(names)])} {c(['noticed', 'said so', 'asked why', 'minded'])}"
        if f == 5:
            return f" with {c(['a', 'the same', 'an odd', 'a sudden'])} {c(B_NOUN_ABS)}"
        return f" {c(B_ADVERB)}"

    def narr() -> str:
        s = core(subj())
        if rng.random() < 0.3:
            s = f"{c(B_OPENERS)}, {s}"
        if rng.random() < 0.45:
            s += tail()
        return cap(s) + "."

    def utter() -> tuple[str, bool]:
        f = rng.randrange(9)
        if f == 0:
            return f"{c(['I', 'We', 'You'])} {c(B_MODALS)} {c(B_VB)} {np_(0.3)} {c(B_WHEN)}", False
        if f == 1:
            return f"{c(['Did', 'Will', 'Can', 'Should'])} {c(['you', 'we', 'she', 'he'])} {c(B_VB)} {np_(0.3)}", True
        if f == 2:
            return f"Where {c(['is', 'was', 'has'])} {np_(0.4)}{c(['', ' gone', ' got to'])}", True
        if f == 3:
            return f"{c(names)} {c(['says', 'told me', 'thinks', 'swears'])} {np_(0.3)} {c(['is', 'was'])} {c(B_ADJ)}", False
        if f == 4:
            return c(["Yes", "No", "Perhaps", "Not yet", "Go on", "Hush", "Never", "Of course", "I know", "Wait"]), False
        if f == 5:
            return f"It is {c(B_ADJ)}, {np_(0.2)}", False
        if f == 6:
            return f"{c(['Tell', 'Ask', 'Show', 'Promise'])} {c(['me', 'her', 'him', c(names)])} {c(['about', 'nothing of', 'again about'])} {np_(0.3)}", False
        if f == 7:
            return f"Why {c(['did', 'would', 'must'])} {c(['you', 'they', c(names)])} {c(B_VB)} {c(['it', 'them', np_(0.2)])}", True
        return f"{c(['I', 'We'])} {c(['saw', 'found', 'lost', 'heard'])} {np_(0.3)} {pp()}", False

    def dialogue() -> str:
        u, q = utter()
        name = c(names)
        say = c(B_SAY)
        if q:
            line = f"\u201c{u}?\u201d {name if rng.random() < 0.7 else c(['he', 'she'])} {c(['asked', 'said', 'wondered', 'demanded'])}."
        elif rng.random() < 0.6:
            attr = c([f"{name} {say}", f"said {name}", f"{name} {say}, {c(B_ADVERB)}", f"{c(['he', 'she'])} {say}"])
            line = f"\u201c{u}{c([',', ',', '!'])}\u201d {attr}."
        else:
            line = f"{name} {c(B_VERB_INTRANS)}. \u201c{u}.\u201d"
        if rng.random() < 0.35:
            line += " " + narr()
        return line

    return {"narr": narr, "dialogue": dialogue}


ESSAY_ABS = W("""habit custom liberty solitude education ambition leisure memory labour friendship
property fortune reputation curiosity idleness conversation travel tradition prudence taste
imagination authority charity progress luxury""")
ESSAY_ADJ = W("""common|rare|necessary|dangerous|useful|tedious|admirable|private|public|modern|ancient
|ordinary|peculiar|natural|difficult|agreeable|serious|idle|honest""")
ESSAY_FORMS = [
    "It is often said that {a} is {adj}, but I have found it {adj2} more often than not",
    "No one who has lived in a small town can doubt that {a} and {b} are nearer relations than they appear",
    "The {adj} man values {a} above {b}, and is surprised when the world does not agree with him",
    "We speak of {a} as though it were a possession, when it is rather a habit of attention",
    "There is a kind of {a} that comes only with age, and a kind of {b} that age destroys",
    "I do not think that {a} can be taught, though it may certainly be encouraged",
    "Our grandfathers distrusted {a}, and our children will probably distrust {b}",
    "Whatever else may be said of {a}, it has the merit of being {adj}",
    "The difficulty is not that {a} is {adj}, but that it is so seldom examined",
    "A walk of ten miles will cure most forms of {a}, and several forms of {b}",
    "Those who praise {a} most loudly are rarely those who practise it",
    "In every age there have been people who mistook {a} for {b}",
    "It would be pleasant to believe that {a} improves with {b}; experience suggests otherwise",
    "Nothing is so {adj} as {a}, unless it be the {adj2} pursuit of {b}",
    "I remember a neighbour of ours who said that {a} was the only thing worth having",
    "The books of my youth were full of {a}, and rather short of {b}",
    "One need not be a philosopher to notice that {a} is {adj} in prosperity and {adj2} in want",
]


ESSAY_GROUPS = W("""old men|children|travellers|neighbours|scholars|farmers|the young|the rich|the poor|clerks
|schoolmasters|sailors|shopkeepers|our grandparents|my countrymen|the English|philosophers|gardeners""")
ESSAY_COPULA = W("is|was|remains|becomes|seems|may be|cannot be|is rarely|is always|is often|is seldom|has become|will always be")
ESSAY_VERBS = W("""admire|distrust|neglect|praise|misunderstand|cultivate|fear|envy|pursue|forget|despise|cherish
|inherit|squander|mistake|defend|ridicule|recommend""")
ESSAY_AUTH = W("""Montaigne|my grandmother|an old sea captain|a country parson|my first schoolmaster|a Dutch friend
|the village doctor|a bookseller in the town|my father|a lady I met on a train""")


def essay_sentence(rng: random.Random) -> str:
    """A reflective essay sentence, composed from small parts."""
    c = rng.choice

    def abs_np() -> str:
        r = rng.random()
        if r < 0.3:
            return c(ESSAY_ABS)
        if r < 0.55:
            return f"the {c(ESSAY_ADJ)} {c(ESSAY_ABS)}" if rng.random() < 0.5 else f"{a_an(c(ESSAY_ADJ))} {c(ESSAY_ABS)}"
        if r < 0.8:
            return f"the {c(ESSAY_ABS)} of {c(ESSAY_GROUPS)}"
        return f"{c(['our', 'their', 'my', 'his'])} {c(ESSAY_ABS)}"

    def pred() -> str:
        r = rng.random()
        if r < 0.35:
            return c(ESSAY_ADJ)
        if r < 0.55:
            return f"more {c(ESSAY_ADJ)} than {abs_np()}"
        if r < 0.75:
            return f"{c(['a kind of', 'a form of', 'the enemy of', 'the servant of', 'a cousin of', 'the price of'])} {c(ESSAY_ABS)}"
        return f"{c(ESSAY_ADJ)} and {c(ESSAY_ADJ)}"

    f = rng.randrange(10)
    if f == 0 and rng.random() < 0.5:
        a, b = rng.sample(ESSAY_ABS, 2)
        adj, adj2 = rng.sample(ESSAY_ADJ, 2)
        out = c(ESSAY_FORMS).format(a=a, b=b, adj=adj, adj2=adj2)
    elif f <= 3:
        out = f"{abs_np()} {c(ESSAY_COPULA)} {pred()}"
    elif f == 4:
        out = f"{c(ESSAY_GROUPS)} {c(ESSAY_VERBS)} {abs_np()}, and {c(['rightly', 'wrongly', 'perhaps', 'not without reason', 'for the most part'])}"
    elif f == 5:
        out = f"{c(ESSAY_AUTH)} {c(['used to say', 'once told me', 'believed', 'insisted', 'wrote'])} that {abs_np()} {c(ESSAY_COPULA)} {pred()}"
    elif f == 6:
        out = f"{c(['I suspect', 'I am inclined to think', 'It seems to me', 'One may fairly say', 'I have come to believe'])} that {abs_np()} {c(ESSAY_COPULA)} {pred()}"
    elif f == 7:
        out = f"{c(['Few', 'Most', 'Many', 'All'])} {c(ESSAY_GROUPS).removeprefix('the ')} {c(ESSAY_VERBS)} {abs_np()} {c(['in youth', 'in old age', 'in time', 'without knowing it', 'at some cost', 'in public'])}"
    elif f == 8:
        out = f"{c(['If', 'When', 'Where', 'Although'])} {abs_np()} {c(ESSAY_COPULA)} {c(ESSAY_ADJ)}, {abs_np()} {c(ESSAY_COPULA)} {pred()}"
    else:
        out = f"{c(['Consider', 'Take', 'Observe', 'Think of'])} {abs_np()}: {c(['it', 'nothing', 'little'])} {c(['is', 'seems', 'could be'])} {pred()}"
    if rng.random() < 0.3:
        out += f"{c([', and', '; yet', ', though', ', for', '; and'])} {abs_np()} {c(ESSAY_COPULA)} {pred()}"
    return cap(out) + "."


# ----------------------------------------------------------------------------- web (informal)

WEB_ADJ = W("""awesome amazing super great cool crazy insane solid legit decent terrible annoying
huge easy cheap pricey underrated overrated perfect handy sketchy gorgeous""")
WEB_INTENS = W("so|really|totally|super|honestly|literally|pretty|kinda|way too")
WEB_FILLER = W("tbh|lol|imo|btw|fyi|haha|ngl|IMHO")
WEB_PRODUCTS = W("""air fryer|standing desk|phone case|hiking boots|robot vacuum|laptop stand|coffee grinder
|wireless earbuds|yoga mat|mechanical keyboard|road bike|camping stove|smart watch|blender|rain jacket
|webcam|gaming chair|water bottle|tent|bike light|backpack|desk lamp|power bank""")
WEB_CTA = [
    "Click here to read more.", "Subscribe to our newsletter for more tips like this!",
    "Don't forget to like and share!", "Sign up now and get 10% off your first order.",
    "Leave a comment below and let me know what you think!", "Follow us on social media for daily updates.",
    "Check out our other posts on {topic}.", "Get the deal before it's gone!",
    "Hit the subscribe button so you never miss a post.", "Use code SAVE20 at checkout.",
    "Share this with a friend who needs it!", "Read the full review here >>",
]
WEB_BLOG = [
    "So I finally tried the {prod} everyone keeps talking about and {intens} {adj}.",
    "Okay, real talk: {topicn} is {intens} {adj} right now.",
    "I've been using my {prod} for about {n} weeks now and here's my honest take.",
    "Not gonna lie, I was skeptical at first {filler}.",
    "If you're anything like me, you probably don't have time to research every {prod} out there.",
    "Here's the thing nobody tells you about {topicn}.",
    "My sister bought one last {month} and she won't stop talking about it lol.",
    "You guys asked for it, so here it is!",
    "Let me know in the comments if you've tried it!",
    "Spoiler: it's {intens} worth it.",
    "Honestly? I wish I'd done this years ago.",
    "The price is ${price}, which isn't bad at all for what you get.",
    "It arrived in like {n} days which was {intens} fast.",
    "Quick update: I've now had it for {n} months and it still works great.",
    "Pros: cheap, light, easy to clean. Cons: the {part2} feels kinda flimsy.",
    "Would I buy it again? Absolutely.",
    "Anyway, that's enough rambling from me {filler}.",
    "We went to {placeN} last weekend and it was {intens} {adj}!!",
    "The kids loved it, the dog loved it, I loved it.",
    "Pro tip: don't skip the {part2}, trust me on this one.",
    "I'm not an expert but here's what worked for me.",
    "You can grab one on sale for ${price} right now.",
    "Okay so this might be an unpopular opinion but {topicn} is {intens} {adj}.",
    "Lots of you messaged me about this so I figured I'd write it all up.",
    "Here's my setup, nothing fancy.",
    "Don't make the same mistake I did!",
    "It's a game changer, seriously.",
    "First impressions: {intens} {adj}, but the {part2} could be better.",
    "I'll be honest, I almost returned it after day one.",
    "Tag someone who needs to see this!",
    "Btw if you want the link just message me.",
    "That's it for today, see you next week!",
]
WEB_NEWS = [
    "{placeN} council has approved plans for a new {noun} on the edge of town.",
    "Residents say they were not consulted about the changes.",
    "\u201cWe're really excited about this,\u201d a spokesperson told reporters on {weekday}.",
    "The project is expected to cost around ${million} million.",
    "Work is due to start in {month} and could take up to {n} months.",
    "Police are asking anyone with information to get in touch.",
    "Local businesses have welcomed the news.",
    "More than {n}00 people signed a petition against the plans.",
    "The {noun} will stay closed until further notice.",
    "Officials said the decision was made after a review of safety concerns.",
    "Updates to follow.",
    "The announcement came as a surprise to many in the community.",
    "Tickets go on sale {weekday} at 9am.",
    "Traffic is expected to be heavy this weekend, so plan ahead.",
    "A full statement is available on the council website.",
    "The team said it would \u201cwork hard to make things right\u201d.",
    "Critics called the move a waste of taxpayers' money.",
    "Fans took to social media to share their reactions.",
    "The mayor is expected to comment later today.",
    "Read more: {placeN} named one of the best places to live",
]
WEB_FORUM = [
    "Has anyone else had this problem with their {prod}?",
    "Thanks in advance!", "Any help would be appreciated.",
    "Same issue here, following.", "Did you ever find a fix for this?",
    "Try turning it off and on again, worked for me lol.",
    "I had the exact same thing last {month}. Ended up returning it.",
    "This. 100% this.", "+1, mine does the same.", "Edit: never mind, fixed it!",
    "Which version are you on?", "Not sure if this helps but check the settings menu.",
    "OP here, update: it was the {part2} all along.",
    "Bump. Still looking for an answer.", "Just use a different one tbh.",
    "Mine's been fine for {n} years, you probably got a bad one.",
    "Customer support was useless, took {n} weeks to reply.",
    "Can confirm, happened to me too.", "Welcome to the forum!",
    "Why does nobody read the manual lol",
]
WEB_SHOP = [
    "FREE shipping on orders over $50!", "In stock - ships within 24 hours.",
    "Only {n} left in stock, order soon.", "Add to cart", "Buy now, pay later with 0% interest.",
    "Was ${price2}, now only ${price}!", "Customers also bought:", "Rated {stars} out of 5 by {n}00 customers.",
    "30-day money-back guarantee, no questions asked.", "Limited time offer!",
    "Perfect gift for {who}.", "Color: {colour} / Size: {size}", "Best seller in {topicn}.",
    "Easy returns.", "Secure checkout.", "Questions? Chat with us 24/7.",
]
WEB_WHO = W("dads|moms|teens|gamers|students|hikers|coffee lovers|new homeowners|busy professionals")
WEB_PARTS = W("battery|charger|lid|strap|handle|cable|app|filter|zipper|manual|warranty|settings")
WEB_LIST_HEAD = [
    "{n} Things You Need To Know About {TopicN}", "{n} Reasons Why Your {Prod} Keeps Breaking",
    "The {n} Best {Prod}s of the Year (Tested!)", "{n} Easy Hacks That Will Change Your Life",
    "Top {n} Mistakes Everyone Makes With Their {Prod}", "{n} Cheap {Prod} Deals You Can't Miss",
    "{n} Ways To Save Money On {TopicN}", "You Won't Believe These {n} {TopicN} Facts",
]
WEB_LIST_ITEM = [
    "{Prod} - {intens} {adj} and under ${price}.", "Don't skip this one. Seriously.",
    "This one surprised me the most.", "Everyone gets this wrong!", "Cheap, fast, and it just works.",
    "Kind of obvious but you'd be surprised.", "My personal favourite tbh.",
    "Check the {part2} first, it's usually the problem.", "Saves you like ${price} a year.",
    "Game changer for {who}.", "Skip it if you're on a budget.", "Works {intens} well in winter.",
]
WEEKDAYS = W("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")


def typo(rng: random.Random, text: str, rate: float) -> str:
    """Swap two letters / drop a letter in a few words (web text only)."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) > 4 and w.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.6 else w[:j] + w[j + 1:]
    return " ".join(words)


def web_slots(rng: random.Random, topic: str) -> dict[str, Callable[[], str]]:
    t = TOPICS[topic]
    return {
        "prod": lambda: rng.choice(WEB_PRODUCTS), "Prod": lambda: rng.choice(WEB_PRODUCTS).title(),
        "adj": lambda: rng.choice(WEB_ADJ), "intens": lambda: rng.choice(WEB_INTENS),
        "filler": lambda: rng.choice(WEB_FILLER), "n": lambda: str(rng.randint(2, 15)),
        "topic": lambda: topic, "topicn": lambda: rng.choice(t["noun"]) + " stuff",
        "TopicN": lambda: rng.choice(t["noun"]).title(), "noun": lambda: rng.choice(t["noun"]),
        "month": lambda: rng.choice(MONTHS), "weekday": lambda: rng.choice(WEEKDAYS),
        "placeN": lambda: place(rng), "price": lambda: f"{rng.randint(5, 299)}.{rng.choice(['99', '95', '49', '00'])}",
        "price2": lambda: f"{rng.randint(300, 499)}.99", "million": lambda: f"{rng.uniform(1, 90):.1f}",
        "part2": lambda: rng.choice(WEB_PARTS), "who": lambda: rng.choice(WEB_WHO),
        "stars": lambda: f"{rng.uniform(3.6, 4.9):.1f}", "colour": lambda: rng.choice(COLOURS).title(),
        "size": lambda: rng.choice(W("S M L XL")),
    }


def web_article(rng: random.Random, style: str, topic: str, n_par: int) -> tuple[str, list[str]]:
    """(title, paragraphs) of an informal web text: blog | news | forum | shop | listicle."""
    slots = web_slots(rng, topic)
    pool = {"blog": WEB_BLOG, "news": WEB_NEWS, "forum": WEB_FORUM, "shop": WEB_SHOP}.get(style, WEB_BLOG)
    pick = Picker(rng, pool)
    blog_mix = Picker(rng, WEB_BLOG)
    paras: list[str] = []
    if style == "listicle":
        title = fill(rng, rng.choice(WEB_LIST_HEAD), slots)
        n = int(re.match(r"\d+", title).group()) if re.match(r"\d+", title) else 7
        paras.append(fill(rng, blog_mix(), slots) + " " + fill(rng, blog_mix(), slots))
        items = Picker(rng, WEB_LIST_ITEM)
        for i in range(1, n + 1):
            paras.append(f"{i}. {fill(rng, items(), slots)} {fill(rng, blog_mix(), slots)}")
        paras.append(fill(rng, rng.choice(WEB_CTA), slots))
    else:
        if style == "news":
            title = fill(rng, rng.choice([
                "{placeN} council approves new {noun} plan", "BREAKING: {noun} closed after storm in {placeN}",
                "Residents react to {noun} decision", "What the new {noun} means for {placeN}",
                "{placeN} {noun} to reopen next {month}"]), slots)
        elif style == "forum":
            title = fill(rng, rng.choice([
                "Re: {prod} stopped working??", "Help!! {prod} won't turn on", "Anyone tried the new {prod}?",
                "[Question] best {prod} under ${price}?", "Re: {noun} - worth it or not?"]), slots)
        elif style == "shop":
            title = fill(rng, rng.choice(["{Prod} - Best Price Guaranteed", "Buy {Prod} Online | Free Shipping",
                                          "{Prod} Sale - Up To 60% Off"]), slots)
        else:
            title = fill(rng, rng.choice([
                "My honest {prod} review (after {n} months)", "Why I stopped worrying about {topicn}",
                "A weekend in {placeN}: what we did", "The {prod} that changed my mornings",
                "Beginner's guide to {topicn} (no fluff!)", "Is the {prod} worth it? Let's talk"]), slots)
        for _ in range(n_par):
            k = rng.randint(1, 4) if style != "forum" else rng.randint(1, 3)
            sents = []
            for _ in range(k):
                r = rng.random()
                if r < 0.45:
                    sents.append(fill(rng, pick(), slots))
                elif r < 0.6:
                    sents.append(fill(rng, blog_mix(), slots))
                else:
                    sents.append(web_free_sentence(rng, slots))
            paras.append(" ".join(sents))
        if rng.random() < 0.8:
            paras.append(fill(rng, rng.choice(WEB_CTA), slots))
    paras = [typo(rng, p, 0.02) for p in paras]
    return title, paras


# ----------------------------------------------------------------------------- Chinese

ZH_TIME = W("近年来|在过去的十年中|自二十世纪八十年代以来|进入新世纪以后|早在明清时期|据史料记载|2015年以来|目前|长期以来|改革开放以后|从那时起|与此同时")
ZH_SUBJ = W("""该地区|这座城市|当地政府|研究人员|科学家们|许多学者|这家企业|当地居民|有关部门|这所大学|博物馆|该项目|这一流域|农业合作社
|市图书馆|考古队|文化馆|省交通厅|地方商会|中学教师|青年志愿者|环保组织|港务局|历史学会|林业部门|水利部门|茶农们|手工艺人""")
ZH_ADV = W("逐步|不断|大力|积极|显著|持续|进一步|全面|稳步|有效|陆续|重新|系统地|集中|分阶段|因地制宜地|主动|认真")
ZH_VERB = W("推进了|完善了|提高了|加强了|改善了|促进了|保护了|发展了|扩大了|研究了|整理了|恢复了|调查了|记录了|修复了|规划了|更新了|评估了|普及了|开展了")
ZH_OBJ = W("""基础设施建设|生态环境保护|科技创新能力|传统文化的传承|水资源管理|公共交通网络|农业生产水平
|对外贸易往来|教育资源配置|旅游产业结构|文物古迹的修缮工作|城乡之间的联系|湿地生态系统|地方志的编纂工作
|港口的吞吐能力|山区的道路条件|居民的生活质量|森林覆盖率|珍稀鸟类的栖息环境|古建筑群|民间音乐的收集|老城区的排水系统
|乡村学校的图书室|传统手工技艺|河道两岸的堤防|古代碑刻的拓片|农田水利设施|社区医疗服务|方言词汇的调查|茶园的种植技术
|明代城墙遗址|候鸟迁徙路线|地方戏曲的演出|老字号商铺|沿海滩涂|山林防火体系""")
ZH_TAIL = [
    "，为当地经济社会的发展奠定了坚实的基础", "，受到了社会各界的广泛关注", "，取得了明显的成效",
    "，但仍然面临不少困难和挑战", "，这一做法后来被其他地区借鉴", "，相关成果发表在多种学术期刊上",
    "，吸引了大量游客前来参观", "，在国内外产生了较大的影响", "", "", "",
]
ZH_FACT = [
    "全市总面积约为{n}平方公里，常住人口约{m}万人。", "该河全长约{n}公里，流域面积达{m}万平方公里。",
    "据统计，{y}年当地接待游客超过{m}万人次。", "这座古城始建于{y}年，距今已有数百年的历史。",
    "当地年平均气温约为{t}摄氏度，年降水量约{n}毫米。", "该研究团队共有成员{m}人，先后发表论文{n}余篇。",
    "{y}年，这里被列为省级重点文物保护单位。", "全年粮食产量达到{n}万吨，比上一年增长{t}%。",
]
ZH_TOPICS = ["城市", "河流", "古镇", "湿地", "大学", "博物馆", "茶叶", "丝绸", "铁路", "书院"]
ZH_PLACE_A = W("青|云|江|临|安|南|北|东|西|金|石|白|长|平|永|清")
ZH_PLACE_B = W("州|阳|川|宁|山|城|溪|湖|林|水|河|桥")


def zh_place(rng: random.Random) -> str:
    return rng.choice(ZH_PLACE_A) + rng.choice(ZH_PLACE_B)


def zh_sentence(rng: random.Random, facts: "Picker | None" = None) -> str:
    if facts is not None and rng.random() < 0.2:
        return facts().format(n=rng.randint(100, 9000), m=rng.randint(2, 900),
                                          y=rng.randint(1368, 2020), t=rng.randint(3, 22))
    t = rng.choice(ZH_TIME)
    s = rng.choice(ZH_SUBJ)
    if rng.random() < 0.3:
        s = zh_place(rng) + rng.choice(["市", "县", "镇"])
    return f"{t}，{s}{rng.choice(ZH_ADV)}{rng.choice(ZH_VERB)}{rng.choice(ZH_OBJ)}{rng.choice(ZH_TAIL)}。"


def zh_article(rng: random.Random, n_par: int) -> tuple[str, list[str]]:
    p = zh_place(rng)
    title = f"{p}{rng.choice(ZH_TOPICS)}{rng.choice(['的历史与现状', '概况', '的发展', '简介', '调查报告'])}"
    facts = Picker(rng, ZH_FACT)
    paras = ["".join(zh_sentence(rng, facts) for _ in range(rng.randint(3, 5))) for _ in range(n_par)]
    return title, paras


ZH_SPAM_KW = W("免费下载|高清在线观看|最新电影|网上赚钱|日赚千元|低价出售|手机靓号|代办证件|彩票预测|快速贷款|无需抵押|点击进入|官方网站|优惠活动|限时抢购")


def zh_spam(rng: random.Random) -> tuple[str, list[str]]:
    kws = rng.sample(ZH_SPAM_KW, 6)
    title = " ".join(kws[:3]) + " - " + kws[3]
    lines = []
    for _ in range(rng.randint(8, 16)):
        lines.append(" ".join(rng.choice(kws) for _ in range(rng.randint(4, 8))))
    lines += [f"{kws[0]}{kws[1]}，{kws[2]}！点击这里：www.{rng.choice(['abc', 'win', 'kk', 'vip'])}{rng.randint(100, 999)}.cn"] * rng.randint(3, 6)
    return title, lines


# ----------------------------------------------------------------------------- French / German / Spanish

EU = {
    "fr": {
        "subj": W("La ville|Le conseil municipal|Le musée|Cette région|La rivière|Le village|L'université|Le marché"),
        "verb": W("a célébré|accueille|a rénové|présente|a ouvert|protège|développe|attire"),
        "obj": W("""son patrimoine historique|une nouvelle exposition|de nombreux visiteurs chaque été|le vieux pont de pierre
|une bibliothèque publique|les traditions locales|un festival de musique|les producteurs de la région"""),
        "tail": W("""depuis plusieurs années.|grâce au soutien des habitants.|au cours du dix-neuvième siècle.|avec un grand succès.
|malgré les difficultés économiques.|selon les archives municipales.|pendant tout le mois de juillet."""),
        "title": ["Découvrir {p} : histoire et patrimoine", "{p} : un week-end au bord de l'eau", "Les traditions de {p}"],
    },
    "de": {
        "subj": W("Die Stadt|Der Gemeinderat|Das Museum|Diese Region|Der Fluss|Das Dorf|Die Universität|Der Verein"),
        "verb": W("feierte|zeigt|renovierte|eröffnete|schützt|fördert|beherbergt|organisiert"),
        "obj": W("""ihr historisches Erbe|eine neue Ausstellung|zahlreiche Besucher im Sommer|die alte Steinbrücke
|eine öffentliche Bibliothek|die regionalen Traditionen|ein Musikfestival|die Landwirte der Umgebung"""),
        "tail": W("""seit vielen Jahren.|mit Unterstützung der Bewohner.|im neunzehnten Jahrhundert.|mit großem Erfolg.
|trotz wirtschaftlicher Schwierigkeiten.|laut dem Stadtarchiv.|während des ganzen Monats Juli."""),
        "title": ["{p} entdecken: Geschichte und Kultur", "Ein Wochenende in {p}", "Die Traditionen von {p}"],
    },
    "es": {
        "subj": W("La ciudad|El ayuntamiento|El museo|Esta región|El río|El pueblo|La universidad|El mercado"),
        "verb": W("celebró|acoge|renovó|presenta|abrió|protege|desarrolla|atrae"),
        "obj": W("""su patrimonio histórico|una nueva exposición|a numerosos visitantes cada verano|el viejo puente de piedra
|una biblioteca pública|las tradiciones locales|un festival de música|a los productores de la comarca"""),
        "tail": W("""desde hace varios años.|gracias al apoyo de los vecinos.|durante el siglo diecinueve.|con gran éxito.
|a pesar de las dificultades económicas.|según los archivos municipales.|durante todo el mes de julio."""),
        "title": ["Descubrir {p}: historia y patrimonio", "Un fin de semana en {p}", "Las tradiciones de {p}"],
    },
}


def eu_article(rng: random.Random, lang: str, n_par: int) -> tuple[str, list[str]]:
    d = EU[lang]
    p = place(rng)
    title = rng.choice(d["title"]).format(p=p)
    subj, verb, obj, tail = (Picker(rng, d[k]) for k in ("subj", "verb", "obj", "tail"))
    paras = []
    for _ in range(min(n_par, 3)):
        paras.append(" ".join(f"{subj()} {verb()} {obj()} {tail()}" for _ in range(rng.randint(2, 3))))
    return title, paras


WEB_FREE_SUBJ = W("I|We|My husband|My roommate|A friend of mine|My mom|Our team|My kid|Honestly I|So I")
WEB_FREE_VERB = W("bought|tried|returned|tested|ordered|fixed|upgraded|tossed|recommended|reviewed")
WEB_TIME_AGO = W("last week|a couple days ago|back in {month}|over the holidays|yesterday|like a month ago|this weekend")
WEB_REACT = W("""it's been {intens} {adj} so far|no regrets at all|I'm still not sure how I feel about it
|it already broke lol|it was {intens} {adj} out of the box|the whole family uses it now|we love it
|it was a total waste of money|the {part2} died after {n} days""")
WEB_ADVICE = W("""just buy the cheaper one|read the reviews first|check the {part2} before you pay|wait for a sale
|don't overthink it|ask in the comments and I'll help|skip the extended warranty|go for the bigger size""")


def web_free_sentence(rng: random.Random, slots: dict[str, Callable[[], str]]) -> str:
    f = rng.randrange(8)
    if f == 0:
        s = f"{rng.choice(WEB_FREE_SUBJ)} {rng.choice(WEB_FREE_VERB)} {a_an(slots['prod']())} {rng.choice(WEB_TIME_AGO)} and {rng.choice(WEB_REACT)}."
    elif f == 1:
        s = f"If you're thinking about getting {a_an(slots['prod']())}, {rng.choice(WEB_ADVICE)}."
    elif f == 2:
        s = f"The {slots['part2']()} is {slots['intens']()} {slots['adj']()}, but the {slots['part2']()} {rng.choice(['could be better', 'is kinda meh', 'feels cheap', 'is a pain to clean', 'stopped working'])}."
    elif f == 3:
        s = f"For ${slots['price']()} you really can't complain {slots['filler']()}."
    elif f == 4:
        s = f"{rng.choice(WEB_FREE_SUBJ)} {rng.choice(['spent', 'wasted', 'saved'])} like {slots['n']()} hours on {slots['topicn']()} {rng.choice(WEB_TIME_AGO)}."
    elif f == 5:
        s = f"Anyone else think {slots['topicn']()} is {slots['intens']()} {slots['adj']()}?"
    elif f == 6:
        s = f"Update #{slots['n']()}: {rng.choice(WEB_REACT)}!"
    else:
        s = f"{rng.choice(['Seriously', 'Trust me', 'Real talk', 'PSA', 'Heads up'])}, {rng.choice(WEB_ADVICE)}."
    return fill(rng, s, slots)
