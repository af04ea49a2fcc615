"""Bahamian vocabulary the seed draws from: places, people, employers, jobs and their pay."""

from __future__ import annotations

from dataclasses import dataclass

from app.companies.models import Industry
from app.users.islands import Island
from app.users.work_terms import JobCategory, SalaryPeriod

# Islands weighted roughly by population and employment (New Providence is most of the market).
ISLAND_WEIGHTS: dict[Island, int] = {
    Island.NEW_PROVIDENCE: 60,
    Island.GRAND_BAHAMA: 14,
    Island.ABACO: 5,
    Island.ELEUTHERA: 3,
    Island.EXUMA: 4,
    Island.ANDROS: 2,
    Island.HARBOUR_ISLAND: 2,
    Island.BIMINI: 2,
    Island.LONG_ISLAND: 1,
    Island.CAT_ISLAND: 1,
    Island.SPANISH_WELLS: 1,
    Island.BERRY_ISLANDS: 1,
    Island.SAN_SALVADOR: 1,
    Island.INAGUA: 1,
    Island.ACKLINS: 1,
    Island.CROOKED_ISLAND: 1,
    Island.MAYAGUANA: 1,
    Island.RAGGED_ISLAND: 1,
    Island.RUM_CAY: 1,
}

SETTLEMENTS: dict[Island, tuple[str, ...]] = {
    Island.NEW_PROVIDENCE: (
        "Nassau",
        "Cable Beach",
        "Paradise Island",
        "Lyford Cay",
        "Carmichael",
        "Fox Hill",
        "Coral Harbour",
    ),
    Island.GRAND_BAHAMA: ("Freeport", "Lucaya", "West End", "Eight Mile Rock", "McLean's Town"),
    Island.ABACO: ("Marsh Harbour", "Treasure Cay", "Hope Town", "Green Turtle Cay", "Sandy Point"),
    Island.ANDROS: ("Fresh Creek", "Nicholls Town", "Congo Town", "Mangrove Cay"),
    Island.ELEUTHERA: ("Governor's Harbour", "Rock Sound", "Gregory Town", "Tarpum Bay"),
    Island.HARBOUR_ISLAND: ("Dunmore Town",),
    Island.SPANISH_WELLS: ("Spanish Wells",),
    Island.EXUMA: ("George Town", "Staniel Cay", "Rolleville", "Williams Town"),
    Island.LONG_ISLAND: ("Clarence Town", "Stella Maris", "Deadman's Cay"),
    Island.CAT_ISLAND: ("Arthur's Town", "New Bight", "Orange Creek"),
    Island.BIMINI: ("Alice Town", "Bailey Town"),
    Island.BERRY_ISLANDS: ("Great Harbour Cay", "Bullock's Harbour"),
    Island.SAN_SALVADOR: ("Cockburn Town",),
    Island.INAGUA: ("Matthew Town",),
    Island.ACKLINS: ("Spring Point",),
    Island.CROOKED_ISLAND: ("Colonel Hill",),
    Island.MAYAGUANA: ("Abraham's Bay",),
    Island.RAGGED_ISLAND: ("Duncan Town",),
    Island.RUM_CAY: ("Port Nelson",),
}

FIRST_NAMES = (
    "Andre", "Keisha", "Tamika", "Dwayne", "Shavonne", "Marcus", "Latoya", "Devon", "Kendra",
    "Rashad", "Tiffany", "Jamal", "Anthonique", "Tyrone", "Shanice", "Bradley", "Monique",
    "Kevin", "Patrice", "Desmond", "Krystal", "Lincoln", "Renee", "Jermaine", "Nadia", "Shane",
    "Vanessa", "Perry", "Tanisha", "Cordero", "Danielle", "Hubert", "Sasha", "Philip", "Alicia",
)  # fmt: skip

LAST_NAMES = (
    "Rolle", "Johnson", "Smith", "Ferguson", "Knowles", "Bethel", "Pinder", "Saunders",
    "Cartwright", "Moss", "Stubbs", "Taylor", "Thompson", "Sands", "Munroe", "Major",
    "McKenzie", "Russell", "Wilson", "Gibson", "Bain", "Darville", "Fox", "Mackey", "Newbold",
    "Strachan", "Symonette", "Woodside", "Albury", "Forbes", "Hanna", "Cooper", "Deveaux",
)  # fmt: skip

COMPANY_PREFIXES = (
    "Coral", "Lucayan", "Conch", "Junkanoo", "Flamingo", "Pineapple", "Sapphire", "Out Island",
    "Tongue of the Ocean", "Blue Hole", "Sea Grape", "Pink Sands", "Casuarina", "Bay Street",
    "Cable Beach", "Atlantic", "Caribbean", "Island", "Nassau", "Exuma", "Abaco", "Eleuthera",
    "Andros", "Harbour", "Lignum Vitae", "Poinciana", "Bonefish", "Sunrise", "Trade Winds",
    "Paradise",
)  # fmt: skip

COMPANY_SUFFIXES: dict[Industry, tuple[str, ...]] = {
    Industry.TOURISM_HOSPITALITY: ("Resort & Spa", "Beach Club", "Hotel", "Tours", "Villas"),
    Industry.BANKING_FINANCE: ("Bank & Trust", "Wealth Management", "Credit Union", "Capital"),
    Industry.CONSTRUCTION: ("Construction Ltd", "Builders", "Engineering & Construction"),
    Industry.FISHING_MARINE: ("Fisheries", "Marine Services", "Boatyard", "Seafood Co."),
    Industry.GOVERNMENT: ("Port Authority", "Development Corporation", "Utilities Board"),
    Industry.HEALTHCARE: ("Medical Centre", "Health Clinic", "Pharmacy", "Family Practice"),
    Industry.EDUCATION: ("Academy", "Preparatory School", "Learning Centre"),
    Industry.RETAIL: ("Supermarket", "Hardware", "Boutique", "Food Store"),
    Industry.TECHNOLOGY: ("Digital", "Tech Solutions", "Networks"),
    Industry.TRANSPORTATION_LOGISTICS: ("Shipping", "Logistics", "Air Charter", "Freight"),
    Industry.LEGAL_PROFESSIONAL: ("& Co. Chambers", "Accounting Group", "Consulting"),
    Industry.REAL_ESTATE: ("Realty", "Properties", "Estates"),
    Industry.AGRICULTURE: ("Farms", "Agro Produce"),
    Industry.ENERGY_UTILITIES: ("Solar", "Power & Light", "Water Works"),
    Industry.MEDIA_ENTERTAINMENT: ("Media", "Radio", "Events"),
    Industry.NON_PROFIT: ("Foundation", "Community Trust"),
    Industry.OTHER: ("Group", "Services Ltd"),
}

INDUSTRY_WEIGHTS: dict[Industry, int] = {
    Industry.TOURISM_HOSPITALITY: 30,
    Industry.BANKING_FINANCE: 10,
    Industry.CONSTRUCTION: 9,
    Industry.FISHING_MARINE: 5,
    Industry.GOVERNMENT: 5,
    Industry.HEALTHCARE: 7,
    Industry.EDUCATION: 4,
    Industry.RETAIL: 9,
    Industry.TECHNOLOGY: 4,
    Industry.TRANSPORTATION_LOGISTICS: 5,
    Industry.LEGAL_PROFESSIONAL: 4,
    Industry.REAL_ESTATE: 3,
    Industry.AGRICULTURE: 1,
    Industry.ENERGY_UTILITIES: 1,
    Industry.MEDIA_ENTERTAINMENT: 1,
    Industry.NON_PROFIT: 1,
    Industry.OTHER: 1,
}

# The job categories each industry hires for, most common first.
INDUSTRY_CATEGORIES: dict[Industry, tuple[JobCategory, ...]] = {
    Industry.TOURISM_HOSPITALITY: (
        JobCategory.HOSPITALITY_TOURISM,
        JobCategory.FOOD_BEVERAGE,
        JobCategory.CUSTOMER_SERVICE,
        JobCategory.MANAGEMENT,
        JobCategory.SECURITY,
        JobCategory.ACCOUNTING_FINANCE,
    ),
    Industry.BANKING_FINANCE: (
        JobCategory.ACCOUNTING_FINANCE,
        JobCategory.CUSTOMER_SERVICE,
        JobCategory.INFORMATION_TECHNOLOGY,
        JobCategory.LEGAL,
        JobCategory.MANAGEMENT,
    ),
    Industry.CONSTRUCTION: (
        JobCategory.CONSTRUCTION_TRADES,
        JobCategory.ENGINEERING,
        JobCategory.MANAGEMENT,
        JobCategory.ADMINISTRATION,
    ),
    Industry.FISHING_MARINE: (
        JobCategory.MARITIME_FISHING,
        JobCategory.TRANSPORTATION_LOGISTICS,
        JobCategory.CONSTRUCTION_TRADES,
    ),
    Industry.GOVERNMENT: (
        JobCategory.PUBLIC_SERVICE,
        JobCategory.ADMINISTRATION,
        JobCategory.ENGINEERING,
        JobCategory.SECURITY,
    ),
    Industry.HEALTHCARE: (
        JobCategory.HEALTHCARE,
        JobCategory.ADMINISTRATION,
        JobCategory.CUSTOMER_SERVICE,
    ),
    Industry.EDUCATION: (JobCategory.EDUCATION, JobCategory.ADMINISTRATION),
    Industry.RETAIL: (
        JobCategory.CUSTOMER_SERVICE,
        JobCategory.MARKETING_SALES,
        JobCategory.TRANSPORTATION_LOGISTICS,
        JobCategory.MANAGEMENT,
    ),
    Industry.TECHNOLOGY: (
        JobCategory.INFORMATION_TECHNOLOGY,
        JobCategory.ENGINEERING,
        JobCategory.MARKETING_SALES,
    ),
    Industry.TRANSPORTATION_LOGISTICS: (
        JobCategory.TRANSPORTATION_LOGISTICS,
        JobCategory.CUSTOMER_SERVICE,
        JobCategory.ADMINISTRATION,
    ),
    Industry.LEGAL_PROFESSIONAL: (
        JobCategory.LEGAL,
        JobCategory.ACCOUNTING_FINANCE,
        JobCategory.ADMINISTRATION,
    ),
    Industry.REAL_ESTATE: (JobCategory.MARKETING_SALES, JobCategory.ADMINISTRATION),
    Industry.AGRICULTURE: (JobCategory.OTHER, JobCategory.TRANSPORTATION_LOGISTICS),
    Industry.ENERGY_UTILITIES: (JobCategory.ENGINEERING, JobCategory.CONSTRUCTION_TRADES),
    Industry.MEDIA_ENTERTAINMENT: (JobCategory.MARKETING_SALES, JobCategory.OTHER),
    Industry.NON_PROFIT: (JobCategory.ADMINISTRATION, JobCategory.EDUCATION),
    Industry.OTHER: (JobCategory.OTHER, JobCategory.ADMINISTRATION),
}


@dataclass(frozen=True)
class Role:
    title: str
    skill_list: str  # comma-separated
    period: SalaryPeriod
    pay: tuple[int, int]  # typical BSD range for the period

    @property
    def skills(self) -> list[str]:
        return self.skill_list.split(", ")


_H, _M, _Y = SalaryPeriod.HOUR, SalaryPeriod.MONTH, SalaryPeriod.YEAR

ROLES: dict[JobCategory, tuple[Role, ...]] = {
    JobCategory.HOSPITALITY_TOURISM: (
        Role("Front Desk Agent", "guest service, opera pms, reservations", _H, (8, 14)),
        Role("Housekeeping Attendant", "housekeeping, attention to detail", _H, (7, 11)),
        Role("Concierge", "guest service, local knowledge, tours", _H, (10, 18)),
        Role("Tour Guide", "bahamian history, public speaking, snorkelling", _H, (9, 16)),
        Role("Dive Instructor", "padi, scuba, first aid", _M, (2200, 3800)),
        Role("Guest Relations Manager", "guest service, leadership", _Y, (38000, 60000)),
    ),
    JobCategory.FOOD_BEVERAGE: (
        Role("Line Cook", "cooking, food safety, bahamian cuisine", _H, (9, 15)),
        Role("Bartender", "mixology, cash handling, guest service", _H, (8, 13)),
        Role("Executive Chef", "menu planning, kitchen management, costing", _Y, (55000, 95000)),
        Role("Server", "guest service, pos systems", _H, (7, 10)),
    ),
    JobCategory.CUSTOMER_SERVICE: (
        Role("Customer Service Representative", "communication, crm, problem solving", _H, (8, 14)),
        Role("Call Centre Agent", "communication, data entry", _H, (8, 12)),
        Role("Bank Teller", "cash handling, customer service, compliance", _Y, (22000, 30000)),
    ),
    JobCategory.ACCOUNTING_FINANCE: (
        Role("Accountant", "ifrs, quickbooks, reconciliation", _Y, (40000, 70000)),
        Role("Compliance Officer", "aml, kyc, risk assessment", _Y, (50000, 90000)),
        Role("Trust Officer", "trust administration, kyc, client relations", _Y, (45000, 85000)),
        Role("Payroll Clerk", "payroll, excel, nib contributions", _Y, (25000, 38000)),
    ),
    JobCategory.CONSTRUCTION_TRADES: (
        Role("Electrician", "electrical wiring, blueprints, safety", _H, (14, 28)),
        Role("Mason", "block laying, concrete, plastering", _H, (12, 24)),
        Role("Carpenter", "framing, finish carpentry, hurricane shutters", _H, (12, 25)),
        Role("Plumber", "pipefitting, water systems, cisterns", _H, (13, 26)),
        Role("Heavy Equipment Operator", "excavator, loader, safety", _H, (15, 30)),
    ),
    JobCategory.ENGINEERING: (
        Role(
            "Civil Engineer", "autocad, structural design, project management", _Y, (55000, 95000)
        ),
        Role("Site Engineer", "site supervision, quantity surveying", _Y, (45000, 75000)),
        Role("Solar Installer", "photovoltaics, electrical, roof work", _H, (14, 26)),
    ),
    JobCategory.MARITIME_FISHING: (
        Role("Boat Captain", "navigation, boat handling, stcw", _M, (3000, 6000)),
        Role("Deckhand", "line handling, boat maintenance, fishing", _H, (8, 14)),
        Role("Crawfish Diver", "free diving, fishing, boat handling", _M, (1800, 4000)),
        Role("Marine Mechanic", "outboard engines, diesel, fibreglass", _H, (14, 28)),
    ),
    JobCategory.PUBLIC_SERVICE: (
        Role("Customs Officer", "customs law, inspection, integrity", _Y, (26000, 42000)),
        Role("Administrative Officer", "public administration, report writing", _Y, (28000, 45000)),
        Role("Immigration Officer", "border control, interviewing", _Y, (26000, 40000)),
    ),
    JobCategory.ADMINISTRATION: (
        Role(
            "Administrative Assistant", "microsoft office, scheduling, filing", _Y, (22000, 34000)
        ),
        Role("Office Manager", "office management, bookkeeping, hr", _Y, (35000, 55000)),
        Role("Receptionist", "phones, scheduling, customer service", _H, (8, 12)),
    ),
    JobCategory.HEALTHCARE: (
        Role(
            "Registered Nurse", "patient care, bls, medication administration", _Y, (38000, 65000)
        ),
        Role("Pharmacist", "dispensing, pharmacology, patient counselling", _Y, (60000, 95000)),
        Role("Medical Laboratory Technologist", "phlebotomy, lab analysis", _Y, (35000, 55000)),
        Role("General Practitioner", "primary care, diagnosis", _Y, (90000, 160000)),
    ),
    JobCategory.EDUCATION: (
        Role("Primary School Teacher", "lesson planning, classroom management", _Y, (30000, 48000)),
        Role("Mathematics Teacher", "bgcse, mathematics, lesson planning", _Y, (34000, 55000)),
        Role("Teaching Assistant", "child care, literacy", _H, (8, 12)),
    ),
    JobCategory.INFORMATION_TECHNOLOGY: (
        Role("Software Developer", "python, javascript, sql", _Y, (45000, 90000)),
        Role("Network Administrator", "cisco, firewalls, windows server", _Y, (40000, 70000)),
        Role("IT Support Technician", "help desk, hardware, office 365", _Y, (26000, 40000)),
        Role("Data Analyst", "sql, excel, power bi", _Y, (40000, 65000)),
    ),
    JobCategory.LEGAL: (
        Role("Attorney", "litigation, conveyancing, corporate law", _Y, (60000, 140000)),
        Role("Paralegal", "legal research, drafting, conveyancing", _Y, (28000, 45000)),
    ),
    JobCategory.MANAGEMENT: (
        Role("Operations Manager", "operations, budgeting, leadership", _Y, (55000, 95000)),
        Role("Human Resources Manager", "recruitment, employment act, payroll", _Y, (50000, 85000)),
        Role(
            "Food and Beverage Manager", "leadership, inventory, guest service", _Y, (45000, 75000)
        ),
    ),
    JobCategory.MARKETING_SALES: (
        Role("Sales Associate", "sales, customer service, cash handling", _H, (7, 12)),
        Role("Marketing Coordinator", "social media, copywriting, events", _Y, (30000, 48000)),
        Role("Real Estate Agent", "property sales, negotiation", _Y, (30000, 90000)),
    ),
    JobCategory.SECURITY: (
        Role("Security Officer", "patrol, cctv, first aid", _H, (7, 12)),
        Role("Loss Prevention Officer", "surveillance, report writing", _H, (8, 13)),
    ),
    JobCategory.TRANSPORTATION_LOGISTICS: (
        Role("Delivery Driver", "driving, route planning, customer service", _H, (8, 13)),
        Role("Warehouse Supervisor", "inventory, forklift, leadership", _Y, (30000, 45000)),
        Role("Customs Broker", "customs entries, tariffs, shipping", _Y, (35000, 60000)),
        Role("Ramp Agent", "baggage handling, aircraft safety", _H, (9, 14)),
    ),
    JobCategory.OTHER: (
        Role("Farm Hand", "agriculture, irrigation, heavy lifting", _H, (7, 11)),
        Role("Landscaper", "landscaping, irrigation, equipment", _H, (8, 13)),
        Role("Event Coordinator", "event planning, vendor management", _Y, (30000, 50000)),
    ),
}

SENIORITY = ("", "", "", "Senior ", "Junior ", "Lead ", "Assistant ")

DESCRIPTION_OPENINGS = (
    "{company} is looking for a {title} to join our team in {location}.",
    "Join {company} in {location}: we are hiring a {title}.",
    "{company}, {island}, has an opening for an experienced {title}.",
)

DESCRIPTION_BODIES = (
    "You will work closely with a friendly team that serves guests and clients from across "
    "The Bahamas and abroad.",
    "The role suits someone dependable, organised and proud of excellent service.",
    "Hurricane-season readiness and flexibility with shifts, including weekends and holidays, "
    "are part of the job.",
    "We offer NIB contributions, group health insurance and paid vacation.",
    "Training is provided; applicants must be Bahamian citizens or hold a valid work permit.",
    "Transportation allowance offered for Family Island postings.",
)
