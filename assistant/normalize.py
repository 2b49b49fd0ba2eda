"""Question normalization: one spelling for the same words, case kept.

Case is kept on purpose: an upper-case "OR" or "IN" is a state code, a lower-case one is a word, and
the slot extractor needs to tell them apart. Every later stage works on offsets into this text.
"""

from __future__ import annotations

from functools import lru_cache
import re
from typing import Any
import unicodedata

from assistant.lexicon import lexicon
from warehouse import geo

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                         "\u2014": "-", "\u00a0": " "})
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?!.;:,]+$")
_DIGIT_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_YEAR_WORDS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
               "nineteen", "twenty")


def _century(two: str) -> str:
    """A year written with two digits: '99' -> 1999, '01' -> 2001."""
    return ("19" if int(two) >= 50 else "20") + two


# "Texans", "New Yorkers": the customers of a state; "Texan shoppers": the state's
_PEOPLE = {people.lower(): geo.STATES[code].name for code, names in geo.DEMONYMS.items() for people in names}
_DEMONYM = re.compile(r"\b(" + "|".join(sorted((re.escape(p[:-1]) for p in _PEOPLE), key=len, reverse=True))
                      + r")(s?)\b", re.I)


def _state_people(m: re.Match[str]) -> str:
    state = _PEOPLE[m.group(1).lower() + "s"]
    return f"{state} customers" if m.group(2) else state


# who takes goods home: a customer word anywhere before, or a word for who or where a few words before
_BUYERS = re.compile(r"\b(?:customers?|shoppers?|buyers?|people)\b"
                     r"|\b(?:persons|folks|clients?|who|states?|city|cities)\b(?:\s+\S+){0,5}\s*$", re.I)


def _took_home(m: re.Match[str]) -> str:
    """Customers take goods home (bought); a company takes money home (its profit)."""
    return "bought" if _BUYERS.search(m.string[: m.start()]) or re.match(
        r"\s+(?:the\s+)?(?:most|fewest|least|more|fewer)?\s*(?:units?|items?|pieces?|products?|goods|untis)\b",
        m.string[m.end():], re.I) else m.group(0)


_REWRITES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (_DEMONYM, _state_people),
    # a closing sentence with a sign-off and a name ("... 2001? Thanks, Alex", "Warm regards, Margaret")
    (re.compile(r"(?<=[.!?])\s*(?:(?i:many\s+)?(?i:thanks|thank\s+you)(?i:\s+(?:so\s+much|a\s+lot|a\s+bunch|again|in\s+advance))?"
                r"|(?i:cheers|(?:kind|warm|warmest|best)\s+regards|regards|best\s+wishes|best|warmly|love(?:\s+to\s+all)?"
                r"|yours(?:\s+truly)?|sincerely|ta))\s*[,!.-]*\s*(?:[A-Z][a-z]+\.?)?\s*[.!]?\s*$"), ""),
    (re.compile(r"\bv(?:ersu)?s\.?(?=\s)", re.I), "vs"),
    # SQL-ish questions ("where region != 'west'", "count(*)")
    (re.compile(r"\s*(?:!=|<>)\s*"), " not "),
    # "in '01", "for '99": a year with its century left out (before quoted values are unquoted)
    (re.compile(r"(?<![\w'])'(\d{2})\b(?!')"), lambda m: _century(m.group(1))),
    # "sales numbers for 98", "in 01 vs 00": two digits after "in/for" that end the question or a comparison
    (re.compile(r"\b(in|for|during)\s+(\d{2})(?=\s*(?:$|[?!,;]|\.(?!\d)|\s+(?:vs|versus|and|to|compared|against)\s+(?:\d{2}|'\d{2})\b))"),
     lambda m: f"{m.group(1)} {_century(m.group(2))}"),
    (re.compile(r"\b((?:19|20)\d{2}\s+(?:vs|versus|and|to|compared\s+to|against)\s+)(\d{2})\b(?![/.:-]|\s*[%$\w])"),
     lambda m: m.group(1) + _century(m.group(2))),
    (re.compile(r"(?<![\w'])'([^']+)'(?![\w'])"), r"\1"),     # quoted values: 'home' -> home
    (re.compile(r'"([^"]+)"'), r"\1"),
    (re.compile(r"\bcount\s*\(\s*\*\s*\)", re.I), "count of all rows"),
    (re.compile(r"\b([A-Za-z_]+)\s*\(\s*([A-Za-z_ ]+?)\s*\)", re.I), r"\1 \2"),   # "sum(sales)", "isodow(date)"
    (re.compile(r"\bnot\s+in\s*\(", re.I), "not in ("),
    (re.compile(r"\bgroup\s*by\b", re.I), "by"),
    (re.compile(r"(?<=\w)_(?=\w)"), " "),                  # "sub_category", "ship_mode"
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"([A-Za-z])\1{2,}", re.I), r"\1"),         # "youuu", "sooo": no English word triples a letter
    (re.compile(r"\bwhat's\b", re.I), "what is"),
    (re.compile(r"\bwhats\b", re.I), "what is"),
    (re.compile(r"\bthats\b", re.I), "that is"),
    (re.compile(r"\bhows\b", re.I), "how is"),
    (re.compile(r"\bim\b", re.I), "i am"),
    (re.compile(r"\b(did|does|do|is|are|was|were|could|would|should|have|has|had|ca|wo)nt\b", re.I), r"\1 not"),
    # "across all four years": every year there is, not a count of four
    (re.compile(r"\b(all|every\s+one\s+of)\s+(?:the\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+"
                r"(years|months|quarters|weeks)\b", re.I), r"all \2"),
    # "losing us money", "lost the company money": who lost it does not change the number
    (re.compile(r"\b(los(?:e|es|ing|t)|cost|costing|costs)\s+(?:us|them|the\s+(?:company|business|firm))\s+"
                r"(money|cash)\b", re.I), r"\1 \2"),
    (re.compile(r"\s*\bdivided\s+(?:by|over)\s+", re.I), " / "),
    # "twenty twenty-three" (before "twenty fifteen" below reads "twenty twenty" as 2020)
    (re.compile(r"\btwenty[\s-]+twenty[\s-]+(one|two|three|four|five|six|seven|eight|nine)\b", re.I),
     lambda m: str(2021 + ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine").index(m.group(1).lower()))),
    # "Nov '23": a month with a two-digit year
    (re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)([a-z]*\.?)\s+'(\d{2})\b", re.I), r"\1\2 20\3"),
    # "which promotion moved the most units", "units that went out the door": sold, not a change
    (re.compile(r"\bmov(?:e|ed|es|ing)\s+(?=(?:the\s+)?(?:most|fewest|least|more|fewer)\b)", re.I), "sold "),
    # ("orders that went out the door": what leaves when it ships, lexicon.yaml's "ships_out" phrase)
    *((pattern, r"\1shipped") for pattern in lexicon().phrases["ships_out"]),
    (re.compile(r"\b(?:went|go|goes|going|gone)\s+out\s+(?:of\s+)?the\s+door\b", re.I), "sold"),
    (re.compile(r"\bppl\b", re.I), "people"),
    (re.compile(r"\bcust(s)?\b", re.I), r"customer\1"),
    (re.compile(r"\bdepts?\b\.?", re.I), "department"),           # "the Men dept" (not "Sept")
    # "once you take out grocery", "once binders are taken out": the exclusion, not "only once"
    (re.compile(r"\bonce\s+(?=(?:you\s+|we\s+)?(?:take|taking|leave|leaving|strip|remove|exclude|drop)\s)", re.I), ""),
    (re.compile(r"\bonce\s+(?=(?:the\s+)?[\w ,]{1,40}?\s(?:are|is)\s+(?:taken\s+out|left\s+out|removed|excluded)\b)", re.I),
     ""),
    # "revenue week by week, added up as we go": a running total (which the rules then ask about)
    (re.compile(r"\b(?:added\s+up|summed|totall?ed)\s+as\s+(?:we|you|it)\s+go(?:es)?\b|\bas\s+(?:we|you)\s+go\b", re.I),
     "cumulative"),
    (re.compile(r"\bteh\b", re.I), "the"),
    # "back to revenue", "go back to 2023": the thing gone back to (not "back to all years": a removal)
    # (nor "back to the first one": the conversation's first answer, read by the pipeline)
    (re.compile(r"\b(?:(?:go|switch|let's\s+go|lets\s+go)\s+)?back\s+to\s+(?!(?:all|every)\b)"
                r"(?!(?:the\s+|my\s+)?(?:very\s+)?(?:first|original|initial|opening)\b)", re.I), ""),
    # "and back in 2014?": the year, said looking back
    (re.compile(r"\bback\s+(?=in\s+(?:(?:19|20)\d\d|q[1-4]\b|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))", re.I), ""),
    # money in another currency or in thousands: words the rules read (and ask about), not symbols they drop
    (re.compile(r"\s*£\s*"), " pounds "),
    (re.compile(r"\s*€\s*"), " euros "),
    (re.compile(r"\s*¥\s*"), " yen "),
    (re.compile(r"\s*₹\s*"), " rupees "),
    (re.compile(r"(?<![\w$])(?:k\$|\$k|\$000s?|\$\s*thousands?)(?![\w$])", re.I), "thousands"),
    (re.compile(r"\bincl\.?(?=\s)", re.I), "including"),
    # "on a per-order basis": per order; "restrict that to Furniture": only Furniture
    (re.compile(r"\bon\s+an?\s+per[\s-](order|customer|line|unit|day|week|month)\s+basis\b", re.I), r"per \1"),
    (re.compile(r"\b(?:restrict|restricted|restricting|narrow|narrowed)\s+(?:(?:that|it|this|them|the\s+analysis)\s+)?(?:down\s+)?to\b",
                re.I), "only"),
    # "what share of sales was attributable to each region": by region
    (re.compile(r"\b(?:(?:was|were|is|are)\s+)?attributable\s+to\s+(?:each|every)\b", re.I), "by"),
    (re.compile(r"\bchg\b", re.I), "change"),
    # "the corresponding half of 2023": the same half
    (re.compile(r"\bcorresponding\b", re.I), "same"),
    # "by the years": by year; "the less profit": the least
    (re.compile(r"\bby\s+the\s+(year|month|quarter|week|day)s\b", re.I), r"by \1"),
    (re.compile(r"\bthe\s+less\b(?!\s+than)", re.I), "the least"),
    (re.compile(r"\bset\s+out\b", re.I), "show"),
    # "how much revenue did we book": a verb (record), not the Books category
    (re.compile(r"\b((?:did|do|will|would|could)\s+(?:we|you|they)|we|they)\s+book\b", re.I), r"\1 make"),
    # "like-for-like" / "LFL" / "same-store": stores open in both periods, which this data cannot tell (one unknown word)
    (re.compile(r"\blike[\s-]+for[\s-]+like\b|\blfl\b|\bsame[\s-]+stores?\b(?=\s+(?:sales|revenue|growth))", re.I), "likeforlike"),
    # "profit month by month for 2023, Jan to Dec": the whole year the question names
    (re.compile(r",?\s*(?:from\s+)?jan(?:uary)?\.?\s*(?:to|through|thru|-|–)\s*dec(?:ember)?\.?(?!\s*(?:19|20)?\d\d)\b", re.I),
     lambda m: "" if re.search(r"\b(?:19|20)\d\d\b", m.string) else m.group(0)),
    # "before the call", "for tomorrow's meeting": when it is needed, not what
    (re.compile(r"\b(?:before|for|ahead\s+of|after|in)\s+(?:the|my|our|this|tomorrow'?s?|today'?s?)\s+(?:call|meeting|review|standup"
                r"|stand-up|sync|catch-up|catchup)\b", re.I), ""),
    # "how much business did we do": how much we sold (not a member named "business")
    (re.compile(r"\bhow\s+much\s+business\s+(did|do|does|have|has)\s+(we|you|they|the\s+\w+)\s+(?:do|done|did)\b", re.I),
     r"how much \1 \2 sell"),
    # "how many units moved": sold, not a change
    (re.compile(r"\b(units|items|pieces|products|stock)\s+(?:(?:did|do|does|have|has|had)\s+(?:we|you|they|it|(?:the|our)\s+[a-z]+)\s+"
                r"|we\s+|they\s+)?mov(?:e|ed)\b", re.I), r"\1 sold"),
    # "total sales across 2001": in 2001
    (re.compile(r"\bacross\s+(?=(?:the\s+year\s+)?(?:19|20)\d\d\b(?!\s*(?:-|to|and|through|thru|until)\s*(?:19|20)\d\d))", re.I), "in "),
    # "what did the business generate": the company (not a member named "business")
    (re.compile(r"\b(?:the|our)\s+(?:whole\s+|entire\s+)?business\b(?!\s*(?:class|classes|category|categories|dept|department|brand|items?)\b)",
                re.I), "us"),
    # "baskets that had at least one Music item": the baskets holding such an item
    (re.compile(r"\b(had|have|has|with|contained|containing|included|including)\s+at\s+least\s+(?:one|1|a\s+single)\b"
                r"(?=\s+(?-i:[A-Z])[\w&'-]*\s+(?:item|product)s?\b)", re.I), r"\1 a"),
    # "could you share the quarterly profit": show it (not a share of a total)
    (re.compile(r"\b((?:could|can|would|will)\s+you\s+(?:please\s+|kindly\s+)?|please\s+|pls\s+|kindly\s+"
                r"|request(?:ing)?\s+(?:you\s+)?to\s+(?:please\s+|kindly\s+)?)share\b(?!\s+of\b)",
                re.I), r"\1show"),
    # "kindly state the number of ...", "would you state our net earnings": tell (a verb, not a state)
    (re.compile(r"\b(kindly|please|pls|plz|you|would|could|can|to)\s+state\s+(?=(?:the|our|what|how|which|whether|its|their"
                r"|total|overall)\b)", re.I), r"\1 tell "),
    # "the stores, order them by units": sort them (an imperative, not the orders measure)
    (re.compile(r"\b(?:re)?order\s+(them|it|those|these|this|the\s+list|the\s+results?|the\s+rows|everything)"
                r"(?=\s+(?:by|from|in|with|starting|largest|smallest|biggest|highest|lowest|most|least|best|worst)\b|\s*[,.;?!]|\s*$)",
                re.I), r"sort \1"),
    # "hw much", "hw many": how (two letters: below the spelling corrector's reach)
    (re.compile(r"\bhw\b(?=\s+(?:much|many|did|do|does|is|are|was|were))", re.I), "how"),
    # "the ation and bar branches, not combined": each its own
    (re.compile(r"\bnot\s+(?:combined|added\s+(?:up|together)|summed|together|lumped\s+together)\b", re.I), "separately"),
    # "top10", "bottom5": top 10
    (re.compile(r"\b(top|bottom)(\d{1,3})\b", re.I), r"\1 \2"),
    # "mthly NP", "qtrly": monthly
    (re.compile(r"\bmthly\b", re.I), "monthly"),
    # "the chain's top seller": the top-selling one
    (re.compile(r"\btop[\s-]+sellers?\b", re.I), "top-selling"),
    # "(YE 2000)", "YE2000": the year ended with 2000 (the year ended 31 Dec 2000 is read with "ending" below)
    (re.compile(r"\(\s*ye\s*(?:19|20)\d\d\s*\)|\bye\s*((?:19|20)\d\d)\b", re.I), lambda m: m.group(1) or ""),
    # "no. of customers": the number of
    (re.compile(r"\bno\.\s*of\b", re.I), "number of"),
    # "sales ~ month": by month (a model formula's tilde)
    (re.compile(r"(?<=\w)\s*~\s*(?=\w)"), " by "),
    # "yr 01", "yr=1998", "year == 2002": the year
    (re.compile(r"\b(?:yr|year)\s*(?:==?|:)?\s*(\d{2})\b(?![\d/.:%,-]|\s*(?:%|percent|months?|days?|weeks?))", re.I),
     lambda m: "year " + _century(m.group(1))),
    (re.compile(r"\b(yr|year)\s*==?\s*(?=(?:19|20)\d\d\b)", re.I), "year "),
    # "sales for 2k1", "in 2k": a year (not the amount 2k, which follows 'over', 'above', '$'...)
    (re.compile(r"\b2k(\d)\b", re.I), r"200\1"),
    (re.compile(r"\b(in|for|during|of|yr|year|,)\s+2k\b(?!\s*(?:\+|or\s+(?:more|less)|dollars|\$))", re.I), r"\1 2000"),
    # "twenty oh one": 2001
    (re.compile(r"\btwenty[\s-]+(?:oh|o|zero|nought)[\s-]+(one|two|three|four|five|six|seven|eight|nine)\b", re.I),
     lambda m: str(2001 + _DIGIT_WORDS.index(m.group(1).lower()))),
    # "CY2000", "FY2001 (calendar)": the calendar year (a fiscal year alone is not known here)
    (re.compile(r"\bcy\s*(\d{4})\b|\bfy\s*(\d{4})\s*\(\s*calendar(?:\s+year)?\s*\)", re.I), lambda m: m.group(1) or m.group(2)),
    # "the most recent full year", "the previous calendar year": last year
    (re.compile(r"\b(?:the\s+)?(?:most\s+recent|latest|previous|prior|last)\s+(?:(?:full|complete|whole|calendar)\s+)+year\b",
                re.I), "last year"),
    # "in the latest year", "the year that just ended", "the year just gone": last year (not "latest year first")
    (re.compile(r"\b(?:the\s+)?(?:most\s+recent|latest)\s+year\b(?!\s+(?:first|on\s+top|at\s+the\s+top))"
                r"|\bthe\s+year\s+(?:that\s+)?just\s+(?:ended|finished|closed|gone|past)\b"
                r"|\bthe\s+year\s+that\s+(?:ended|finished|closed)\b(?!\s+(?:in|on|at)?\s*[a-z]*\s*\d)"
                , re.I), "last year"),
    # "across the whole of 1998": in 1998
    (re.compile(r"\bacross\s+(?:the\s+)?(?:whole|entire|full)(?:\s+of)?\s+(?=(?:the\s+)?(?:year\s+)?(?:19|20)\d\d\b)", re.I), "in "),
    # "how much revenue did the able store book": made (a verb, not the Books category)
    (re.compile(r"\b((?:did|do|does|will|would|could)\s+(?:the\s+|our\s+)?(?:[\w'-]+\s+){1,3}?)book\b(?!s)", re.I), r"\1make"),
    # "customers from which state took home the most units": bought (not the Home category); "what did we
    # take home", "our take-home": the dataset's profit verb
    (re.compile(r"\b(?:took|take|takes|taking|taken)[\s-]+home\b(?!\s+(?:dept|department|category|items?|products?|goods))",
                re.I), _took_home),
    # "how much did we bring home last year": brought in (not the Home category)
    (re.compile(r"\b(bring|brings|brought|bringing)\s+home\b(?!\s+(?:dept|department|category|items?|products?|goods))", re.I),
     r"\1 in"),
    # "the brand that shifted the most units": sold
    (re.compile(r"\bshift(?:ed|s)?\s+(?=(?:the\s+)?(?:most|fewest|least|more|fewer)?\s*(?:units|items|pieces|products|stock)\b)",
                re.I), "sold "),
    # "did Nebraska customers shop with us", "shop at the ese store": a verb (buy), not the store
    (re.compile(r"\b((?:did|do|does|will|would)\s+(?:[\w'-]+\s+){0,2}?(?:customers?|people|shoppers?|buyers?|folks|clients?|guests?"
                r"|patrons?|we|you|they)\s+)shop\b|\bshop(?=\s+(?:with|at|from)\b)", re.I),
     lambda m: (m.group(1) or "") + "buy"),
    # "who bought at one of the Midway stores": at the Midway stores
    (re.compile(r"\b(at|in|from|through)\s+one\s+of\s+(?:the|our)\s+", re.I), r"\1 the "),
    # "the year ending Dec 2001", "the year ended 31 Dec 2000", "the 12 months of 2000": that calendar year
    (re.compile(r"\b(?:the\s+)?(?:12\s+months|year)\s+end(?:ing|ed)\s+(?:31(?:st)?\s+)?dec(?:ember)?\.?\s+((?:19|20)\d\d)\b", re.I), r"\1"),
    (re.compile(r"\b(in|during|over|throughout)\s+the\s+(?:12|twelve)\s+months\s+of\s+(?=(?:19|20)\d\d\b)", re.I), r"\1 "),
    # "the fiction and history lines together": the two members (product lines, not sales lines)
    (re.compile(r"\b(and\s+(?!(?:sales|ticket|order|receipt|item|basket|invoice|product|transaction)s?\b)[a-z][\w-]*)\s+(?:lines|ranges)\b", re.I),
     r"\1"),
    # "shoppers' home states": the customers' states (not the Home category)
    (re.compile(r"\bhome\s+(states?)\b", re.I), r"\1"),
    # "what did we ring up at the tills": in the stores (not "till" as "until")
    (re.compile(r"\b(?:at|through|thru|across)\s+the\s+till?s\b|\bat\s+the\s+till\b(?!\s+(?:19|20)\d\d)", re.I), ""),
    # "last years revenue": last year's (the apostrophe lost), not the last few years
    (re.compile(r"\b(last|this|next|previous)\s+years\s+(?!(?:and|or|to|of|in|by|vs|versus|compared|combined|together|"
                r"ago|running|back|before|after|from|through|thru|for|with)\b)(?=[a-z])", re.I), r"\1 year "),
    # "picked up", "rung through": bought, sold at
    (re.compile(r"\bpick(?:ed|s)?\s+up\b", re.I), "bought"),
    (re.compile(r"\b(?:rung|rang|ring|rings)\s+through\b", re.I), "sold at"),
    # "what did we net", "how much did we earn net": the net profit (a verb, not a qualifier)
    # "what did we make net": earned
    (re.compile(r"\b(?:make|made|makes|making)\s+net\b(?!\s+(?:profit|profits|margin|sales|revenue|of|earnings|income))", re.I), "earn"),
    (re.compile(r"\b(earn(?:ed|s)?)\s+net\b", re.I), r"\1"),
    (re.compile(r"\b((?:did|do|does)\s+(?:[\w'-]+\s+){1,3}?)net\b(?!\s+(?:profit|profits|margin|sales|revenue|of|earnings|income))", re.I),
     r"\1earn"),
    # "a dozen": 12
    (re.compile(r"\ba\s+dozen\b", re.I), "12"),
    # "how many items did we shift": sold (British), not a change
    (re.compile(r"\b((?:did|do|does|will|could)\s+(?:we|you|they|each\s+\w+|the\s+\w+|our\s+\w+)|we|they)\s+shift(?:ed)?\b", re.I),
     r"\1 sell"),
    # "avg ticket across the whole business": overall
    (re.compile(r"\b(?:across|for|in)\s+(?:the|our)\s+(?:whole|entire)\s+(?:business|company|chain|firm)\b", re.I), "overall"),
    # "basket size": its value or its units? (asked, as one unknown word; "average basket" is the order value);
    # "basket size in dollars" says which
    (re.compile(r"\bbasket\s+sizes?\b(?!\s+in\s+(?:dollars|\$|usd)\b)", re.I), "basketsize"),
    # "customer lifetime value", "ltv": a measure this data does not hold (kept as one unknown word)
    (re.compile(r"\b(?:customer\s+)?life[\s-]?time\s+value\b|\bc?ltv\b|\bclv\b", re.I), "lifetimevalue"),
    # "Hi Jo, ...", "Morning team - ...": a greeting opening a message (a name after it is no member)
    (re.compile(r"^\W*(?:hi|hello|hey|(?:good\s+)?(?:morning|afternoon|evening))(?:\s+(?:team|all|both|everyone|folks|guys"
                r"|there|[a-z]+))?\s*(?:[,!:]|\s[-–—])\s*", re.I), ""),
    # "orders that went out the door in May", "left the warehouse": shipped (the ship date)
    (re.compile(r"\b(?:got|were\s+sent|was\s+sent)\s+out(?=\s+(?:in|during|on|last|this|between|from|since)\b)"
                r"|\bleft\s+(?:the\s+)?(?:warehouse|building|dock)", re.I), "shipped"),
    # "how many pieces in one order in average": per order, on average
    (re.compile(r"\b(?:in|for)\s+(?:one|a\s+single|each|an?)\s+(order|line|customer)\b(?!\s+(?:id|number|of)\b)", re.I), r"per \1"),
    (re.compile(r"\b(?:in|for)\s+(?:one|a\s+single|each|an?)\s+unit\b", re.I), "per unit"),
    (re.compile(r"\b(?:in|at)\s+(?:the\s+)?average\b(?!\s+(?:of|order|discount|basket|price|value|ticket)\b)", re.I), "on average"),
    # "flip it to profit", "switch to units": the measure replaced (not the order reversed: "flip it to ascending")
    (re.compile(r"\b(?:flip|switch|change|swap|turn)(?:\s+(?:it|that|this|them|the\s+metric))?\s+(?:over\s+)?(?:to|into)\s+"
                r"(?!(?:asc|desc|ascending|descending|reverse|the\s+other\s+way)\b)(?P<rest>[a-z][^,.;?!]*)", re.I),
     r"\g<rest> instead"),
    # "our no. 1 customer", "the number one product": the top one
    # ("#1" only after "our"/"the"/"my": a brand may be called "importoimporto #1")
    (re.compile(r"(?:\b(?:no\.?|number)|(?:^|(?<=\bour\s)|(?<=\bthe\s)|(?<=\bmy\s))#)\s*(?:1|one)\b"
                r"(?!\s*(?:st|%|percent))", re.I), "top"),
    # years said as words: "two thousand one", "nineteen ninety-eight", "in two thousand" (a year only after a
    # word that leads to one, and not "two thousand dollars"), "twenty fifteen", "two thousand and sixteen"
    (re.compile(r"\btwo\s+thousand(?:\s+and)?[\s-]+(" + "|".join(_DIGIT_WORDS) + r")\b(?!\s+hundred)", re.I),
     lambda m: str(2000 + _DIGIT_WORDS.index(m.group(1).lower()) + 1)),
    (re.compile(r"\bnineteen[\s-]+ninety[\s-]+(" + "|".join(_DIGIT_WORDS) + r")\b", re.I),
     lambda m: str(1990 + _DIGIT_WORDS.index(m.group(1).lower()) + 1)),
    (re.compile(r"\b(?:twenty|two\s+thousand(?:\s+and)?)[\s-]+(" + "|".join(_YEAR_WORDS) + r")\b", re.I),
     lambda m: str(2000 + _YEAR_WORDS.index(m.group(1).lower()) + 10)),
    (re.compile(r"\b(in|of|to|vs|and|for|year|from|thru|until|during|versus|through|between)\s+two\s+thousand\b(?!\s*(?:"
                r"hundred|dollars?|bucks|usd|units?|items?|orders?|customers?|tickets?|receipts?|sales\b|[$%]|\d))", re.I), r"\1 2000"),
    # "the month prior", "the prior quarter": the one before
    (re.compile(r"\b(the\s+(?:month|quarter|year|week|day|period))\s+prior\b", re.I), r"\1 before"),
    (re.compile(r"\bprior\s+(?=(?:month|quarter|year|week|day|period)s?\b)", re.I), "previous "),
    # "Texas aside, the rest of the states": the others taken together, not split by state
    (re.compile(r"\b(?:the\s+)?(?:rest|remainder)\s+of\s+(?:the\s+|our\s+)?(?!(?:years|months|quarters|weeks|days|"
                r"periods|times)\b)[a-z]+s\b", re.I), "the rest"),
    # "only states in the west region": the filter says "only" already
    # (as "just", a filler word that still opens a follow-up: "only customers from Ohio" after a breakdown)
    (re.compile(r"\bonly\s+(?=(?:the\s+)?[a-z]+s\s+(?:in|from|within)\s)", re.I), "just "),
    # "only the top 3": the ranking already says how many
    (re.compile(r"\bonly\s+(?=(?:the\s+)?(?:top|bottom|first|best|worst|biggest|largest|smallest|highest|lowest|"
                r"(?:\d{1,2}|two|three|four|five|ten)\s+of\s+(?:those|them|these))\b)",
                re.I), ""),
    (re.compile(r"\bmost\s+big\b", re.I), "biggest"),
    (re.compile(r"\bmost\s+small\b", re.I), "smallest"),
    (re.compile(r"\b(last|this|past|per|a|each|every)\s+mo\b", re.I), r"\1 month"),
    # "order year", "order_date": the order date is the default date; the word is not a count of orders
    (re.compile(r"\border[\s_]+(?=(?:date|year|month|quarter|week|day)s?\b)", re.I), ""),
    (re.compile(r"\bhow's\b", re.I), "how is"),
    (re.compile(r"(?<=\w)'s\b"), ""),        # "Q1's revenue", "California's sales"
    (re.compile(r"\bnon-(?=[A-Za-z])", re.I), "non "),    # "non-Furniture" -> "non Furniture"
    (re.compile(r"(?<=[A-Za-z])n't\b", re.I), " not"),    # "didn't" -> "did not": a negation is read
    (re.compile(r"(?<=[A-Za-z])'(ve|re|ll|d|m)\b", re.I), r" \1"),
    # Hyphens between letters join words people also write apart ("best-selling", "sub-category",
    # "day-of-week"); hyphens next to digits are ranges and dates and stay.
    (re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])"), " "),
    (re.compile(r"\s*(?:->|=>|→)\s*"), " to "),
    (re.compile(r"\byrs?\b", re.I), "year"),
    (re.compile(r"\bwks\b", re.I), "weeks"),
    (re.compile(r"\bwk\b", re.I), "week"),
    (re.compile(r"\bmths\b", re.I), "months"),
    (re.compile(r"\bmth\b", re.I), "month"),
    (re.compile(r"\bqtrly\b", re.I), "quarterly"),
    (re.compile(r"\b([qmy])[\s-]+by[\s-]+\1\b", re.I),
     lambda m: {"q": "quarter by quarter", "m": "month by month", "y": "year by year"}[m.group(1).lower()]),
    (re.compile(r"\bper\s+cent\b", re.I), "percent"),
    (re.compile(r"\b(?:all\s+)?the\s+(?:twelve|12)\s+months\s+(?=of\b|in\b)", re.I), "each month "),
    (re.compile(r"\b(?:all\s+)?the\s+(?:four|4)\s+quarters\s+(?=of\b|in\b)", re.I), "each quarter "),
    # "order" is also a dataset word: say the presentation order without it
    (re.compile(r"\b(?:in\s+)?(?:increasing|ascending|rising)\s+order\b", re.I), "smallest first"),
    (re.compile(r"\b(?:in\s+)?(?:decreasing|descending|falling|declining)\s+order\b", re.I), "largest first"),
    (re.compile(r"(?<=\s)v(?=\s)", re.I), "vs"),
    (re.compile(r"(?<=[a-z]s)'(?=\s|$)", re.I), ""),       # "investors' summary"
    (re.compile(r"\b(negative|positive)\s+(?:total|overall)\s+", re.I), r"\1 "),
    # Analysts typing SQL: "order by sales desc limit 5" is a top 5, "... asc limit 3" a bottom 3
    (re.compile(r"\b(?:order|sort)(?:ed)?\s+by\s+([a-z][a-z ]*?)\s+(desc|asc)(?:ending)?\s+limit\s+(\d+)\b", re.I),
     lambda m: f"{'top' if m.group(2).lower() == 'desc' else 'bottom'} {m.group(3)} by {m.group(1)}"),
    # "customer state contributing the least revenue": the one with the least (a ranking, not a share)
    (re.compile(r"\bcontribut(?:ed|ing|es|e)\s+(?=(?:the\s+)?(?:least|most|fewest|lowest|highest|biggest|smallest|largest)\b)",
                re.I), "with "),
    # "sat at the bottom" (not Saturday), "the winner among the classes": the one at the top
    (re.compile(r"\b(?:sat|sits|sit)\s+(?=(?:at\s+)?(?:the\s+)?(?:bottom|top|last|first)\b)", re.I), "was "),
    (re.compile(r"\b(?:the\s+)?(?:winner|leader)\b(?!\s+(?:of|in)\s+(?:19|20)\d\d)", re.I), "the top 1"),
    # "by calendar month", "each calendar quarter": the month, the quarter
    (re.compile(r"\bcalendar\s+(?=(?:month|quarter|week)s?\b)", re.I), ""),
    # "Q1-Q4 sales for 2002": the year's four quarters laid out
    (re.compile(r"\bq1\s*(?:-|–|to|thru|through)\s*q4\b(?!\s*(?:19|20)?\d\d\s*(?:-|–|to|vs|versus|and)\b)", re.I), "by quarter"),
    # "march 02", "nov 99": a month and a two-digit year (no day has a leading zero or is above 31)
    (re.compile(r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|"
                r"nov(?:ember)?|dec(?:ember)?)\s+(0\d|[7-9]\d)\b(?!\s*(?:st|nd|rd|th|,?\s*(?:19|20)\d\d)\b)", re.I),
     lambda m: f"{m.group(1)} {_century(m.group(2))}"),
    # "the most negative margin": the lowest one (a ranking, not a condition on the sign)
    (re.compile(r"\bmost\s+negative\b", re.I), "lowest"),
    # "the most unprofitable class", "deepest in the red": the least profitable one, not the top among losses
    (re.compile(r"\b(?:most|deepest|furthest|farthest)\s+(?:unprofitable|loss\s*making|money\s*losing|in\s+the\s+red)\b",
                re.I), "least profitable"),
    (re.compile(r"\bthe\s+(?:previous|prior|preceding)\s+one\b|\bthe\s+one\s+before\b", re.I), "the previous period"),
    (re.compile(r"\b(?:in\s+)?each\s+of\s+the\s+(last|past|previous)\s+(\d+|\w+)\s+(day|week|month|quarter|year)s\b", re.I),
     r"by \3 for the \1 \2 \3s"),
    (re.compile(r"\babt\b", re.I), "about"),
    (re.compile(r"(?<!\w)w/o(?!\w)", re.I), "without"),
    (re.compile(r"(?<!\w)w/(?=\s)", re.I), "with"),
    (re.compile(r"\bqtrs?\b", re.I), "quarter"),
    (re.compile(r"\bquarter\s+([1-4])\b(?!\s*(?:st|nd|rd|th))", re.I), r"Q\1"),
    (re.compile(r"\bmos\b", re.I), "months"),
    # "the first and second quarter of 2023" -> "the first quarter and second quarter of 2023"
    (re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+(and|to|vs|versus|&)\s+(?:the\s+)?"
                r"(first|second|third|fourth|1st|2nd|3rd|4th)\s+(quarter|half)s?\b", re.I), r"\1 \4 \2 \3 \4"),
    # "the fourth quarter of 2015 compared to the third" -> "... the third quarter of 2015"
    (re.compile(r"\b((?:first|second|third|fourth|1st|2nd|3rd|4th)\s+(quarter|half)\s+(?:of\s+)?((?:19|20)\d\d)"
                r"\s+(?:compared\s+(?:to|with)|vs|versus|against|and|to)\s+(?:the\s+)?"
                r"(?:first|second|third|fourth|1st|2nd|3rd|4th))\b(?!\s+(?:quarter|half))", re.I), r"\1 \2 of \3"),
)


@lru_cache(maxsize=8192)
def normalize(question: str) -> str:
    """NFKC, plain quotes and dashes, single spaces, no trailing punctuation; case is kept (kept per
    text: a service reads the same questions again and again)."""
    text = unicodedata.normalize("NFKC", question).translate(_QUOTES)
    text = _SPACES.sub(" ", text).strip()
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return _TRAILING.sub("", _SPACES.sub(" ", text))
