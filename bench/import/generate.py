#!/usr/bin/env python3
"""Writes a realistic leads CSV for the import benchmark.

usage: generate.py ROWS OUT.csv [--seed N] [--duplicates 0.02] [--style plain|spreadsheet] [--malformed 0.005]

plain: columns email,firstName,lastName,phone,company — about 65 bytes a row, so 1,000,000 rows make ~65 MB.
spreadsheet (issue #11): what a CRM or Excel export looks like — a UTF-8 BOM, CRLF line ends, Excel-style headers
("Email Address", "First Name", "Phone Number", "Company Name") and extra columns (kept as metadata, one of them
free text with commas and quotes, one without a header), US phones in seven formats of which a share have area
codes no carrier has (possible but not valid numbers: they must still be imported), and a share of malformed
email addresses (default 0.5%: the only rows the import may refuse).

Names, business and free-mail domains and phone numbers are drawn from fixed lists with a fixed seed, so every
run writes the same file. A share of rows (default 2%) repeat an earlier person: the same email in other letter
case, or the same phone in another format. The generator also writes OUT.expect.json — rows, malformed emails and
exactly how many rows the import must flag as duplicates (a row is flagged when its lower-cased email or its
phone's digits equal those of an earlier accepted row) — and, for spreadsheet files, OUT.copy.csv: the same rows
as the columns of leads.leads (email, first_name, last_name, phone, company, metadata as JSON) for the \\copy
baseline.
"""
import argparse
import json
import random

FIRST = ("James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan Joseph "
         "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra "
         "Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy "
         "George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob "
         "Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott "
         "Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick "
         "Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia "
         "Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn "
         "Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria "
         "Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan "
         "Abigail Billy Alice Joe Julia Bruce Judy Gabriel Sophia Logan Grace Albert Denise Willie Amber Alan Doris "
         "Juan Marilyn Wayne Danielle Elijah Beverly Randy Isabella Roy Theresa Vincent Diana Ralph Natalie Eugene Brittany "
         "Russell Charlotte Bobby Marie Mason Kayla Philip Alexis Louis Lori Zoë Renée José Søren Ngozi Wei Aiko Priya").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
        "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
        "Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales "
        "Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
        "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long "
        "Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher "
        "Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
        "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
        "Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford "
        "Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner "
        "Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols "
        "Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters O'Brien").split()
COMPANY_A = ("Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Wonka Cyberdyne Tyrell Soylent Massive Aperture "
             "Gringotts Oscorp Pied Piper Dunder Sterling Prestige Monarch Blue Sky Northwind Contoso Fabrikam Litware "
             "Adventure Proseware Lucerne Tailspin Wingtip Woodgrove Alpine Coho Fourth Coffee Margie Trey Humongous").split()
COMPANY_B = ["Corp", "Inc", "LLC", "Group", "Holdings", "Labs", "Partners", "Systems", "Solutions", "& Co", "GmbH", "Ltd"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "proton.me"]
# Area codes no carrier has (libphonenumber: possible, not valid): before spec §8 these rows were refused.
UNASSIGNED = [247, 275, 327, 384, 422, 532, 627, 653, 742, 753, 853, 955, 976]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Marketing", "Office Manager", "Engineer", "Founder", "Director, Ops", ""]
CITIES = ["New York", "Austin", "Seattle", "Chicago", "Boston", "Denver", "San José", "Zürich", "São Paulo", "Montréal"]
LEAD_SOURCES = ["Web Form", "Trade Show", "Referral", "LinkedIn", "Cold Call", "Webinar", ""]
NOTES = ["", "", "", "Met at booth 12, wants a demo", 'Asked about "Enterprise" tier', "Call back Tuesday, 3pm",
         "Budget: $10,000; decision in Q3"]
AREA = [201, 202, 206, 212, 213, 214, 215, 305, 310, 312, 313, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 773,
        805, 818, 858, 917, 925, 949, 972]


def phone(rng, digits=None, unassigned=0.0, formats=5):
    if digits is None:
        a = rng.choice(UNASSIGNED) if unassigned and rng.random() < unassigned else rng.choice(AREA)
        x = rng.randint(2, 9) * 100 + rng.randint(0, 99)
        if x % 100 == 11:
            x += 1
        digits = f"{a}{x:03d}{rng.randint(0, 9999):04d}"
    a, x, n = digits[:3], digits[3:6], digits[6:]
    fmt = rng.randrange(formats)
    text = [f"({a}) {x}-{n}", f"{a}-{x}-{n}", f"+1 {a} {x} {n}", f"{a}.{x}.{n}", f"{a}{x}{n}",
            f"1-{a}-{x}-{n}", f"+1 ({a}) {x}-{n}"][fmt]
    return digits, text


def malformed(rng, email):
    local, domain = email.split("@", 1)
    return [f"{local}@", f"{local} {domain}", f"{local}@{domain.split('.')[0]}", f"{local}@@{domain}",
            f"{local}.{domain}", f"{local.replace('.', ' ', 1)}@{domain}"][rng.randrange(6)]


def quote(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", type=int)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--duplicates", type=float, default=0.02)
    p.add_argument("--style", choices=["plain", "spreadsheet"], default="plain")
    p.add_argument("--malformed", type=float, default=None, help="share of malformed emails (spreadsheet: 0.005)")
    args = p.parse_args()
    sheet = args.style == "spreadsheet"
    bad_share = args.malformed if args.malformed is not None else (0.005 if sheet else 0.0)
    rng = random.Random(args.seed)
    people = []  # (email, digits) of earlier rows, to repeat
    seen_emails, seen_phones = set(), set()
    expect = {"rows": args.rows, "malformed": 0, "duplicates": 0, "phones": 0, "unassigned": 0}
    eol = "\r\n" if sheet else "\n"
    f = open(args.out, "w", encoding="utf-8", newline="")
    copy = open(args.out + ".copy.csv", "w", encoding="utf-8", newline="") if sheet else None
    if sheet:
        f.write("\ufeffEmail Address,First Name,Last Name,Phone Number,Company Name,Job Title,City,Lead Source,Notes,"
                + eol)
        copy.write("email,first_name,last_name,phone,company,metadata\n")
    else:
        f.write("email,firstName,lastName,phone,company" + eol)
    with f:
        for i in range(args.rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"
            formats = 7 if sheet else 5
            unassigned = 0.15 if sheet else 0.0
            if people and rng.random() < args.duplicates:
                email, digits = rng.choice(people)
                if rng.random() < 0.5:
                    email = email.upper() if rng.random() < 0.5 else email.capitalize()
                    digits, ptext = phone(rng, unassigned=unassigned, formats=formats)
                else:
                    email = f"{first.lower()}.{last.lower()}.{i}@{rng.choice(FREE)}"
                    _, ptext = phone(rng, digits, formats=formats)
            else:
                domain = rng.choice(FREE) if rng.random() < 0.4 else company.split()[0].lower() + ".com"
                local = f"{first.lower()}.{last.lower()}{i}".replace("'", "")
                email = f"{local}@{domain}"
                digits, ptext = phone(rng, unassigned=unassigned, formats=formats)
                if len(people) < 200_000:
                    people.append((email, digits))
                elif rng.random() < 0.05:
                    people[rng.randrange(len(people))] = (email, digits)
            if rng.random() < 0.03:
                ptext = ""  # some leads come without a phone
            if bad_share and rng.random() < bad_share:
                email = malformed(rng, email)
                expect["malformed"] += 1
            else:
                key = email.lower()
                pkey = digits if ptext else None
                if key in seen_emails or (pkey is not None and pkey in seen_phones):
                    expect["duplicates"] += 1
                seen_emails.add(key)
                if pkey is not None:
                    seen_phones.add(pkey)
                    expect["phones"] += 1
                    if int(digits[:3]) in UNASSIGNED:
                        expect["unassigned"] += 1
            if not sheet:
                f.write(",".join(quote(v) for v in (email, first, last, ptext, company)) + eol)
                continue
            title, city, source, note = rng.choice(TITLES), rng.choice(CITIES), rng.choice(LEAD_SOURCES), rng.choice(NOTES)
            f.write(",".join(quote(v) for v in (email, first, last, ptext, company, title, city, source, note, "")) + eol)
            meta = {k: v for k, v in (("Job Title", title), ("City", city), ("Lead Source", source), ("Notes", note)) if v}
            copy.write(",".join(quote(v) for v in (email, first, last, ptext, company, json.dumps(meta, ensure_ascii=False))) + "\n")
    if copy:
        copy.close()
    with open(args.out + ".expect.json", "w") as e:
        json.dump(expect, e)


if __name__ == "__main__":
    main()
