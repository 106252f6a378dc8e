#!/usr/bin/env python3
"""Writes a realistic leads CSV for the import benchmark.

usage: generate.py ROWS OUT.csv [--seed N] [--duplicates 0.02]

Columns: email,firstName,lastName,phone,company — about 65 bytes a row, so 1,000,000 rows make ~65 MB.
Names, business and free-mail domains and US phone numbers (valid for libphonenumber, in mixed formats) are
drawn from fixed lists with a fixed seed, so every run writes the same file. A share of rows (default 2%)
repeat an earlier person: the same email in other letter case, or the same phone in another format.
"""
import argparse
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
AREA = [201, 202, 206, 212, 213, 214, 215, 305, 310, 312, 313, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 773,
        805, 818, 858, 917, 925, 949, 972]


def phone(rng, digits=None):
    if digits is None:
        a = rng.choice(AREA)
        x = rng.randint(2, 9) * 100 + rng.randint(0, 99)
        if x % 100 == 11:
            x += 1
        digits = f"{a}{x:03d}{rng.randint(0, 9999):04d}"
    a, x, n = digits[:3], digits[3:6], digits[6:]
    fmt = rng.randrange(5)
    text = [f"({a}) {x}-{n}", f"{a}-{x}-{n}", f"+1 {a} {x} {n}", f"{a}.{x}.{n}", f"{a}{x}{n}"][fmt]
    return digits, text


def quote(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", type=int)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--duplicates", type=float, default=0.02)
    args = p.parse_args()
    rng = random.Random(args.seed)
    people = []  # (email, digits) of earlier rows, to repeat
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write("email,firstName,lastName,phone,company\n")
        for i in range(args.rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"
            if people and rng.random() < args.duplicates:
                email, digits = rng.choice(people)
                if rng.random() < 0.5:
                    email = email.upper() if rng.random() < 0.5 else email.capitalize()
                    _, ptext = phone(rng)
                else:
                    email = f"{first.lower()}.{last.lower()}.{i}@{rng.choice(FREE)}"
                    _, ptext = phone(rng, digits)
            else:
                domain = rng.choice(FREE) if rng.random() < 0.4 else company.split()[0].lower() + ".com"
                local = f"{first.lower()}.{last.lower()}{i}".replace("'", "")
                email = f"{local}@{domain}"
                digits, ptext = phone(rng)
                if len(people) < 200_000:
                    people.append((email, digits))
                elif rng.random() < 0.05:
                    people[rng.randrange(len(people))] = (email, digits)
            if rng.random() < 0.03:
                ptext = ""  # some leads come without a phone
            f.write(",".join(quote(v) for v in (email, first, last, ptext, company)) + "\n")


if __name__ == "__main__":
    main()
