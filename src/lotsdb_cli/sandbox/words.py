"""Word pools for the generated data: plain, accented and CJK text, and a few cells that a
spreadsheet would read as formulas (CSV-injection probes)."""

from __future__ import annotations

SELLER_NAMES = (
    "Riverside Estate Sales",
    "Hôtel Drouot Estates",
    "Müller & Söhne Auktionen",
    "Northern Lights Gallery",
    "東京オークションハウス",
    "Smith, Jones & Co.",
    'The "Attic" Collective',
    "O'Brien Antiques",
    "Åsa Lindqvist Antik",
    "Crescent City Auctions",
    "Zoë's Vintage Finds",
    "Blue Ridge Liquidators",
)

AGENTS = ("Jane Doe", "Zoë Dubois", "Mateus Gonçalves", "Kenji Tanaka", "Priya Natarajan", "Bob Li")

EVENT_KINDS = (
    "Estate Auction",
    "Fine Art Sale",
    "Vintage Vinyl Night",
    "Antiques Auction",
    "Liquidation Sale",
    "Design & Décor Sale",
    "Collector's Evening",
)
EVENT_PLACES = ("Spring", "Summer", "Autumn", "Winter", "Harbour", "Downtown", "Kyōto", "Zürich")

OBJECTS = (
    "oak dresser",
    "Chesterfield sofa",
    "brass floor lamp",
    "Art Deco mirror",
    "porcelain vase",
    "mantel clock",
    "Persian rug",
    "record cabinet",
    "tea set",
    "writing desk",
    "grandfather clock",
    "bronze sculpture",
    "Eames-style chair",
)
OBJECT_QUALITIES = (
    "Antique",
    "Vintage",
    "Mid-century",
    "Victorian",
    "Hand-painted",
    "Restored",
    "Café",
    "Bauhaus",
    "Gründerzeit",
)
NON_ASCII_DESCRIPTIONS = (
    "日本の漆塗り箱 (lacquer box)",
    "Émaillé enamel sign, très rare",
    "Überseekoffer steamer trunk",
    "Ñandutí lace tablecloth",
)
FORMULA_LIKE = (
    '=HYPERLINK("http://example.invalid","click")',
    "+44 20 7946 0958 on tag",
    "-20% reserve adjustment",
    "@seller: check provenance",
    "=1+1",
)

NOTES = (
    "Minor scratches on top.",
    "Pick-up only.",
    "Two pieces, sold as one lot.",
    "Glass cracked — handle with care.",
    "Keys included.",
    "Original receipt in drawer.",
    "Très fragile.",
    "Needs two people to lift.",
)
CONDITIONS = (
    "Good",
    "Fair",
    "Excellent",
    "Worn finish",
    "Chip on base",
    "Water stain",
    "Écaillé corner",
)
CPACK_CODES = ("1", "2", "3", "4", "PBO", "NF")
COMMODITY_IDS = ("1060", "2210", "3105", "4400", "5120")

ARTIST_FIRST = (
    "Sigur",
    "Björk",
    "Los",
    "The",
    "Orchestre",
    "Ōtomo",
    "Nina",
    "Café",
    "DJ",
    "Marée",
    "Sven",
    "Amália",
    "Yoko",
    "Fela",
    "Ibrahim",
)
ARTIST_LAST = (
    "Rós",
    "Guðmundsdóttir",
    "Lobos",
    "Velvet Ghosts",
    "Baobab",
    "Yoshihide",
    "Simone",
    "Tacvba",
    "Krush",
    "Haute",
    "Väth",
    "Rodrigues",
    "Kanno",
    "Kuti",
    "Maalouf",
)
ALBUM_WORDS = (
    "Blue",
    "Nights",
    "Echoes",
    "Paper",
    "Moon",
    "Sól",
    "Électrique",
    "夜の歌",
    "Garden",
    "Static",
    "Velvet",
    "Horizon",
    "Ünder",
    "Pressure",
    "Salt",
    "Rivers",
    "Neon",
    "Quiet",
    "Storm",
    "Año",
    "Cero",
    "Glass",
    "Engines",
)
LABELS = (
    "Sandbox Records",
    "Lotsdb Music",
    "Étiquette Bleue",
    "Nordlys Lydverk",
    "Kumo Recordings",
)
