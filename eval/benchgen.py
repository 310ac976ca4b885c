"""A reproducible mix of French and English documents for the speed benchmark.

Everything is generated from our own sentence templates with a seeded RNG: breach
articles (organization, victim count, data types, dates, agency) and ordinary news
(sports, weather, politics, culture, economy), about 1 breach article in 20, each
150 to 1,500 words. A few ordinary articles use words that breach articles use too
("attaque" in sports, "données" in economy, "stolen base", "leaked draft") so the
prefilter sees realistic near-misses.

    python eval/benchgen.py --docs 400 --seed 7 > mix.jsonl
    python eval/benchgen.py --docs 50 --kind breach > breach.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Iterator

MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]

ORGS_FR = ["Groupe Santé Laurentides", "Caisse populaire des Érables", "Centre de services scolaire du Littoral",
           "Assurances Boréal", "Ville de Saint-Rémi-des-Monts", "Clinique dentaire Beaupré", "Transports Mistral",
           "Hôpital régional de la Vallée", "Société des loisirs du Nord", "Mutuelle Horizon", "Pharmacie Lemieux",
           "Université du Bas-Fleuve", "Coopérative agricole Terroir Uni", "Banque Fjord", "Énergie Cap-Blanc",
           "Réseau de transport de l'Estuaire", "Fédération des infirmières du Plateau", "Librairie Papyrus"]
ORGS_EN = ["Northwind Health", "Maple Ridge Credit Union", "Harborview School District", "Bluestone Insurance",
           "City of Port Aldous", "Brightsmile Dental", "Copperline Logistics", "Riverside General Hospital",
           "Pinecrest Pharmacy", "Lakeshore University", "Summit Federal Bank", "Evergreen Utilities",
           "Ashford Retail Group", "Cobalt Telecom", "Granite Payroll Services", "Westbrook Nursing Homes",
           "Silverleaf Travel", "Oakmont Fitness"]
DATA_FR = ["noms", "adresses", "numéros de téléphone", "dates de naissance", "numéros d'assurance sociale",
           "numéros de permis de conduire", "renseignements bancaires", "numéros de carte de crédit",
           "dossiers médicaux", "adresses courriel", "mots de passe", "numéros de passeport"]
DATA_EN = ["names", "addresses", "phone numbers", "dates of birth", "Social Insurance Numbers",
           "driver's licence numbers", "banking information", "credit card numbers", "medical records",
           "email addresses", "passwords", "passport numbers"]
AGENCIES_FR = ["la Commission d'accès à l'information", "le Commissariat à la protection de la vie privée du Canada",
               "la CNIL", "la Sûreté du Québec", "le Service de police de la Ville de Montréal"]
AGENCIES_EN = ["the Office of the Privacy Commissioner of Canada", "the Information and Privacy Commissioner of Ontario",
               "the RCMP", "the Federal Trade Commission", "local police"]
VICTIMS_FR = ["clients", "patients", "employés", "élèves", "membres", "usagers", "abonnés"]
VICTIMS_EN = ["customers", "patients", "employees", "students", "members", "users", "subscribers"]

BREACH_LEAD_FR = [
    "{org} a confirmé {day} avoir été victime d'une cyberattaque qui a touché les renseignements personnels de {count} {victims}.",
    "Une fuite de données chez {org} pourrait concerner jusqu'à {count} {victims}, a annoncé l'organisation {day}.",
    "Des pirates informatiques ont eu accès aux systèmes de {org} et ont dérobé des données appartenant à {count} {victims}.",
    "{org} avise {count} {victims} qu'un accès non autorisé à ses serveurs a été détecté le {date}.",
]
BREACH_LEAD_EN = [
    "{org} confirmed {day} that it was the victim of a cyberattack affecting the personal information of {count} {victims}.",
    "A data breach at {org} may have exposed the records of as many as {count} {victims}, the organization said {day}.",
    "Hackers gained access to {org}'s systems and stole data belonging to {count} {victims}.",
    "{org} is notifying {count} {victims} that unauthorized access to its servers was detected on {date}.",
]
BREACH_BODY_FR = [
    "Les {data} figurent parmi les informations compromises, selon l'avis envoyé aux personnes concernées.",
    "L'intrusion a été découverte le {date} et l'organisation affirme avoir rapidement isolé les systèmes touchés.",
    "L'incident a été signalé à {agency}, qui confirme avoir reçu une déclaration.",
    "Un groupe lié au rançongiciel {gang} a revendiqué l'attaque sur son site de fuite.",
    "L'organisation offre aux victimes un service de surveillance du crédit pendant deux ans.",
    "Selon un porte-parole, aucune preuve d'utilisation frauduleuse des données n'a été relevée jusqu'ici.",
    "Des experts en cybersécurité ont été mandatés pour mener une enquête approfondie.",
    "Les personnes touchées sont invitées à se méfier des tentatives d'hameçonnage.",
]
BREACH_BODY_EN = [
    "The compromised information includes {data}, according to the notice sent to affected individuals.",
    "The intrusion was discovered on {date} and the organization says it quickly isolated the affected systems.",
    "The incident was reported to {agency}, which confirmed it had received a breach report.",
    "A group linked to the {gang} ransomware claimed responsibility for the attack on its leak site.",
    "The organization is offering victims two years of free credit monitoring.",
    "A spokesperson said there is no evidence so far that the data has been misused.",
    "Outside cybersecurity experts were retained to conduct a forensic investigation.",
    "Affected individuals are urged to watch for phishing attempts.",
]
GANGS = ["LockBit", "BlackCat", "Akira", "Play", "Rhysida", "Medusa", "8Base", "Cl0p"]

TOPICS_FR = {
    "sports": [
        "{team} a remporté une victoire de {a} à {b} contre {team2} {day} devant une foule enthousiaste.",
        "L'entraîneur a salué le travail de ses joueurs en défensive tout au long du match.",
        "Le gardien a réalisé {a} arrêts, dont plusieurs en troisième période.",
        "La formation visiteuse a dominé la possession sans parvenir à concrétiser ses occasions.",
        "Le prochain affrontement aura lieu samedi, à domicile, contre les meneurs du classement.",
        "Blessé au genou, le capitaine devrait rater au moins deux semaines d'activités.",
    ],
    "weather": [
        "Environnement Canada prévoit {a} centimètres de neige sur la région d'ici {day}.",
        "Les températures resteront sous les normales de saison jusqu'à la fin de la semaine.",
        "Des vents violents pourraient causer des pannes d'électricité dans certains secteurs.",
        "Les automobilistes sont invités à la prudence sur les routes glissantes.",
        "Un redoux est attendu au début de la semaine prochaine, accompagné de pluie verglaçante.",
    ],
    "politics": [
        "Le conseil municipal a adopté {day} un budget de {a} millions de dollars pour la prochaine année.",
        "Le maire a défendu la hausse de taxes, qu'il juge nécessaire pour entretenir les infrastructures.",
        "L'opposition réclame un moratoire sur le projet de tramway, dont les coûts ne cessent d'augmenter.",
        "Le ministre a annoncé la création de {a} nouvelles places en garderie dans la région.",
        "Les députés reprendront l'étude du projet de loi après la relâche parlementaire.",
    ],
    "culture": [
        "Le festival de musique de {city} accueillera {a} artistes cet été, dont plusieurs têtes d'affiche.",
        "La nouvelle exposition du musée met en valeur des œuvres inédites d'artistes de la région.",
        "La pièce, présentée à guichets fermés, a reçu une ovation debout lors de la première.",
        "Le roman de l'autrice figure parmi les finalistes d'un prestigieux prix littéraire.",
        "Le cinéma de quartier célèbre son centième anniversaire avec une programmation spéciale.",
    ],
    "economy": [
        "Le taux de chômage a reculé à {a},{b} % en {month}, selon les plus récentes estimations.",
        "Les exportations de bois d'œuvre ont progressé au dernier trimestre.",
        "La banque centrale a maintenu son taux directeur, invoquant une inflation encore élevée.",
        "Plusieurs détaillants signalent une baisse de l'achalandage depuis le début de l'année.",
        "L'entreprise investira {a} millions de dollars dans l'agrandissement de son usine de {city}.",
    ],
}
NEAR_MISS_FR = [
    "L'attaque massive des visiteurs en fin de match a pris la défensive de court.",
    "Selon les données de l'Institut de la statistique, les ventes au détail ont augmenté de {a} %.",
    "Les données recueillies par les chercheurs montrent une hausse des précipitations.",
    "L'équipe a lancé une attaque à cinq en avantage numérique sans toutefois marquer.",
]
TOPICS_EN = {
    "sports": [
        "The {team} beat the {team2} {a}-{b} {day} in front of a sold-out crowd.",
        "The coach praised his players' defensive effort throughout the game.",
        "The goaltender made {a} saves, several of them in the third period.",
        "The visitors controlled possession but could not convert their chances.",
        "The next game is Saturday at home against the league leaders.",
        "The captain, nursing a knee injury, is expected to miss at least two weeks.",
    ],
    "weather": [
        "Forecasters expect {a} centimetres of snow across the region by {day}.",
        "Temperatures will stay below seasonal norms until the end of the week.",
        "Strong winds could cause power outages in some areas.",
        "Drivers are urged to take care on slippery roads.",
        "A thaw is expected early next week, along with freezing rain.",
    ],
    "politics": [
        "City council approved a {a} million dollar budget {day} for the coming year.",
        "The mayor defended the tax increase as necessary to maintain infrastructure.",
        "The opposition is calling for a pause on the light rail project as costs keep rising.",
        "The minister announced {a} new child care spaces in the region.",
        "Members will resume study of the bill after the parliamentary break.",
    ],
    "culture": [
        "The {city} music festival will welcome {a} artists this summer, including several headliners.",
        "The museum's new exhibition showcases previously unseen works by local artists.",
        "The sold-out play received a standing ovation on opening night.",
        "The author's novel is among the finalists for a prestigious literary prize.",
        "The neighbourhood cinema celebrates its hundredth anniversary with a special program.",
    ],
    "economy": [
        "The unemployment rate fell to {a}.{b} per cent in {month}, according to the latest estimates.",
        "Softwood lumber exports grew in the last quarter.",
        "The central bank held its key rate steady, citing persistent inflation.",
        "Several retailers report lower foot traffic since the start of the year.",
        "The company will invest {a} million dollars to expand its {city} plant.",
    ],
}
NEAR_MISS_EN = [
    "The rookie stole second base in the seventh inning and scored on a double.",
    "A leaked draft of the trade agreement circulated among reporters before the summit.",
    "According to data from the statistics agency, retail sales rose {a} per cent.",
    "The team's attack struggled against a well-organized defence.",
]
TEAMS = ["Lynx", "Harfangs", "Titans", "Mariners", "Voltigeurs", "Comets", "Bisons", "Aigles"]
CITIES = ["Rimouski", "Kingston", "Sherbrooke", "Halifax", "Trois-Rivières", "Moncton", "Saguenay", "Victoria"]
DAYS_FR = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "hier", "cette semaine"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "yesterday", "this week"]


def _count(rng: random.Random, lang: str) -> str:
    n = rng.choice([rng.randint(120, 990), rng.randint(1_000, 99_000), rng.randint(100_000, 4_000_000)])
    if lang == "fr":
        return f"{n:,}".replace(",", "\u00a0")
    return f"{n:,}"


def _fill(rng: random.Random, template: str, lang: str) -> str:
    fr = lang == "fr"
    month = rng.randrange(12)
    day_num = rng.randint(1, 28)
    year = rng.choice([2023, 2024, 2025])
    data = rng.sample(DATA_FR if fr else DATA_EN, rng.randint(2, 4))
    data_s = (", ".join(data[:-1]) + (" et " if fr else " and ") + data[-1])
    return template.format(
        org=rng.choice(ORGS_FR if fr else ORGS_EN),
        count=_count(rng, lang),
        victims=rng.choice(VICTIMS_FR if fr else VICTIMS_EN),
        day=rng.choice(DAYS_FR if fr else DAYS_EN),
        date=(f"{day_num} {MONTHS_FR[month]} {year}" if fr else f"{MONTHS_EN[month]} {day_num}, {year}"),
        month=(MONTHS_FR if fr else MONTHS_EN)[month],
        data=data_s,
        agency=rng.choice(AGENCIES_FR if fr else AGENCIES_EN),
        gang=rng.choice(GANGS),
        team=rng.choice(TEAMS), team2=rng.choice(TEAMS), city=rng.choice(CITIES),
        a=rng.randint(2, 9), b=rng.randint(0, 9),
    )


def _article(rng: random.Random, lang: str, breach: bool, near_miss: bool, words: int) -> tuple[str, str]:
    fr = lang == "fr"
    topics = TOPICS_FR if fr else TOPICS_EN
    # Breach articles keep a breach paragraph first, then background from ordinary beats
    # (as long features do); ordinary articles stay on one topic.
    topic = rng.choice(sorted(topics))
    sentences = [_fill(rng, rng.choice(BREACH_LEAD_FR if fr else BREACH_LEAD_EN), lang)] if breach else []
    body = (BREACH_BODY_FR if fr else BREACH_BODY_EN) if breach else topics[topic]
    n_words = sum(len(s.split()) for s in sentences)
    near = NEAR_MISS_FR if fr else NEAR_MISS_EN
    paragraph: list[str] = []
    text_pars: list[str] = []
    while n_words < words:
        if breach and n_words > 260:
            pool = topics[topic]  # past the breach section: context on the organization's sector
        else:
            pool = body
        s = _fill(rng, rng.choice(pool), lang)
        paragraph.append(s)
        n_words += len(s.split())
        if len(paragraph) >= rng.randint(3, 6):
            text_pars.append(" ".join(paragraph))
            paragraph = []
    if paragraph:
        text_pars.append(" ".join(paragraph))
    if near_miss and text_pars:  # one sentence with a breach-like word, somewhere in the article
        k = rng.randrange(len(text_pars))
        text_pars[k] = text_pars[k] + " " + _fill(rng, rng.choice(near), lang)
    lead = " ".join(sentences)
    text = "\n\n".join(([lead] if lead else []) + text_pars)
    if breach:
        title = sentences[0].split(",")[0][:90]
    else:
        title = text.split(".")[0][:90]
    return title, text


def generate(n: int = 400, seed: int = 7, kind: str = "mix", breach_every: int = 20,
             min_words: int = 150, max_words: int = 1500) -> list[dict]:
    """`n` documents. kind: 'mix' (about 1 breach article in `breach_every`), 'breach' or 'ordinary'.

    Languages alternate at random (about half French). The same arguments give the same documents.
    Each document has `id`, `title`, `text`, `published`; `bench_language` and `bench_breach` say
    what it was generated as (the extractor ignores unknown keys, and detects the language itself).
    """
    rng = random.Random(f"benchgen:{seed}:{kind}:{n}")
    docs = []
    for i in range(n):
        lang = rng.choice(["fr", "en"])
        if kind == "breach":
            breach = True
        elif kind == "ordinary":
            breach = False
        else:
            breach = rng.random() < 1.0 / breach_every
        near_miss = (not breach) and rng.random() < 0.25
        words = rng.randint(min_words, max_words)
        title, text = _article(rng, lang, breach, near_miss, words)
        docs.append({
            "id": f"bench-{kind}-{seed}-{i:05d}",
            "title": title,
            "text": text,
            "published": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "bench_language": lang,
            "bench_breach": breach,
        })
    return docs


def iter_jsonl(docs: list[dict]) -> Iterator[str]:
    for d in docs:
        yield json.dumps(d, ensure_ascii=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kind", choices=["mix", "breach", "ordinary"], default="mix")
    args = ap.parse_args(argv)
    for line in iter_jsonl(generate(args.docs, args.seed, args.kind)):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
