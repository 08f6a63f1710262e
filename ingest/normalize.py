"""Normalisation of event values: times, countries, currencies, money, outlier flags.

Pure functions over plain values, with no pydantic model in sight, so the source adapters can call
them too; `ingest.events` wraps them as validators and `ingest.events.parse_event` is the entry
point that applies them. A value that cannot be normalised raises `NormalizeError` with a reason
code from `ingest.events.REJECT_REASONS`.

Missing-value rules (absent, JSON null, and blank strings count as missing):

| field                                          | when missing                                  |
|------------------------------------------------|-----------------------------------------------|
| type                                           | reject `unknown_type`                         |
| event_id                                       | reject `missing_id`                           |
| customer_id and anonymous_id (both)            | reject `missing_id` (one of them is enough)   |
| session_id, behavioural events                 | reject `missing_id`                           |
| session_id, cancellation, consent_changed,     | None (these happen outside sessions too)      |
| profile_updated, loyalty_updated               |                                               |
| product_id, order_id, lines[].product_id       | reject `missing_id`                           |
| customer_id, anonymous_id, category_id blank   | None: a blank optional id is an absent one    |
| timestamp                                      | reject `bad_timestamp`                        |
| timestamp's UTC offset                         | reject `bad_timestamp`, unless the parser got |
|                                                | `default_tz`, which is then assumed           |
| channel / device                               | "web" / "unknown"                             |
| country                                        | None; also None for the known non-countries   |
|                                                | in `UNMAPPED_COUNTRIES`                       |
| category_id, dwell_ms, results, page or url    | None (dwell 0 is a real value, unknown is not)|
| page_view: both page and url                   | reject `missing_field`                        |
| search query, chat intent, consent purpose,    | reject `missing_field`                        |
| granted, source, loyalty points/tier, qty,     |                                               |
| unit_price, purchase lines/amount              |                                               |
| currency, where an amount or price is given    | reject `missing_field` (never guessed)        |
| checkout value, cancellation lines/amount      | None (a cancellation without lines is the     |
|                                                | whole order)                                  |
| cancellation kind                              | "cancellation"                                |
| chat entities / text                           | {} / None (text is dropped anyway unless the  |
|                                                | parser got `keep_text=True`)                  |
| profile field value                            | None means "cleared"                          |

Text: every string of a record, keys included, must be Unicode text (`invalid_text_at`); a lone
UTF-16 surrogate is rejected as `invalid_text`.

Money is parsed through `Decimal` (so decimal strings such as "19.99" keep their value) and
rounded half-to-even to `MONEY_DECIMALS` places: the online-retail prices have up to 3 decimals.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

MONEY_DECIMALS = 4
MAX_MONEY = 1_000_000_000  # per amount or unit price; larger is a unit or parsing error
MAX_QTY = 1_000_000  # the online-retail maximum is 80,995 (one wholesale order)
MAX_DWELL_MS = 86_400_000  # a day
MAX_COUNT = 1_000_000_000
MAX_POINTS = 1_000_000_000
MAX_LINES = 1_000
# Outside these the clock or the parser is wrong; fixed bounds, so a replay gives the same answer.
MIN_TIMESTAMP = datetime(1990, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIMESTAMP_TEXT = 64

# ISO 3166-1 alpha-2, all 249 assigned codes (from tzdata's iso3166.tab).
_ISO_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES = frozenset(_ISO_COUNTRY_CODES.split())

# Country names (keys as `_name_key` folds them) seen in the datasets, plus common aliases.
COUNTRY_NAMES: dict[str, str] = {
    # online-retail
    "australia": "AU",
    "austria": "AT",
    "bahrain": "BH",
    "belgium": "BE",
    "brazil": "BR",
    "canada": "CA",
    "cyprus": "CY",
    "czech republic": "CZ",
    "czechia": "CZ",
    "denmark": "DK",
    "eire": "IE",
    "finland": "FI",
    "france": "FR",
    "germany": "DE",
    "greece": "GR",
    "hong kong": "HK",
    "iceland": "IS",
    "israel": "IL",
    "italy": "IT",
    "japan": "JP",
    "lebanon": "LB",
    "lithuania": "LT",
    "malta": "MT",
    "netherlands": "NL",
    "norway": "NO",
    "poland": "PL",
    "portugal": "PT",
    "rsa": "ZA",  # in the full online-retail file
    "saudi arabia": "SA",
    "singapore": "SG",
    "spain": "ES",
    "sweden": "SE",
    "switzerland": "CH",
    "united arab emirates": "AE",
    "united kingdom": "GB",
    "usa": "US",
    # e-shop clickstream 2008, the rest of codes 1-47
    "british virgin islands": "VG",
    "cayman islands": "KY",
    "christmas island": "CX",
    "croatia": "HR",
    "estonia": "EE",
    "faroe islands": "FO",
    "hungary": "HU",
    "india": "IN",
    "ireland": "IE",
    "latvia": "LV",
    "luxembourg": "LU",
    "mexico": "MX",
    "romania": "RO",
    "russia": "RU",
    "san marino": "SM",
    "slovakia": "SK",
    "slovenia": "SI",
    "ukraine": "UA",
    # common aliases
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united states": "US",
    "united states of america": "US",
    "us": "US",
    "uae": "AE",
    "south africa": "ZA",
    "russian federation": "RU",
    "holland": "NL",
    "china": "CN",
    "south korea": "KR",
    "republic of korea": "KR",
    "taiwan": "TW",
    "new zealand": "NZ",
    "turkey": "TR",
    "türkiye": "TR",
    "bulgaria": "BG",
    "serbia": "RS",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
    "egypt": "EG",
    "indonesia": "ID",
    "malaysia": "MY",
    "nigeria": "NG",
    "philippines": "PH",
    "thailand": "TH",
    "vietnam": "VN",
    "viet nam": "VN",
    "pakistan": "PK",
    "kenya": "KE",
    "morocco": "MA",
    "qatar": "QA",
    "kuwait": "KW",
    "jersey": "JE",
    "guernsey": "GG",
    "isle of man": "IM",
}

# Names that are known not to denote one country: they normalise to None, and this is why.
UNMAPPED_COUNTRIES: dict[str, str] = {
    "unspecified": "the source recorded no country",
    "unknown": "the source recorded no country",
    "unidentified": "the IP address could not be located (e-shop code 12)",
    "european community": "an EU-wide bucket, not a country",
    "channel islands": (
        "Jersey (JE) and Guernsey (GG) together; either code would be wrong for the other half,"
        " and GB would be wrong for both (Crown dependencies are not part of the UK)"
    ),
}

# e-shop clickstream 2008 country codes (e-shop_data_description.txt); None for the codes that
# are not countries: 12 "unidentified" and 43-47, generic top-level domains.
ESHOP_COUNTRY_CODES: dict[int, str | None] = {
    1: "AU", 2: "AT", 3: "BE", 4: "VG", 5: "KY", 6: "CX", 7: "HR", 8: "CY", 9: "CZ", 10: "DK",
    11: "EE", 12: None, 13: "FO", 14: "FI", 15: "FR", 16: "DE", 17: "GR", 18: "HU", 19: "IS",
    20: "IN", 21: "IE", 22: "IT", 23: "LV", 24: "LT", 25: "LU", 26: "MX", 27: "NL", 28: "NO",
    29: "PL", 30: "PT", 31: "RO", 32: "RU", 33: "SM", 34: "SK", 35: "SI", 36: "ES", 37: "SE",
    38: "CH", 39: "UA", 40: "AE", 41: "GB", 42: "US", 43: None, 44: None, 45: None, 46: None,
    47: None,
}  # fmt: skip

# ISO 4217 transaction currencies in use, plus a few withdrawn since 2020 that historical data
# still carries (ANG, CUC, HRK, SLL, ZWL). Fund codes and metals (XAU, XDR, BOV...) are left out.
_ISO_CURRENCY_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
ISO_CURRENCIES = frozenset(_ISO_CURRENCY_CODES.split())


class NormalizeError(ValueError):
    """A value that cannot be normalised; `reason` is one of `ingest.events.REJECT_REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def show(value: object, limit: int = 40) -> str:
    """A short repr for messages: rejected input can be huge or hostile."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def to_utc(value: object, default_tz: tzinfo | None = None) -> datetime:
    """An ISO 8601 string or a datetime, as an aware UTC datetime.

    A naive time is refused unless the caller says which zone the source writes in: guessing UTC
    would silently shift every event of a source by its offset. Numbers are refused too, since
    epoch seconds and milliseconds cannot be told apart reliably.
    """
    if value is None:
        raise NormalizeError("bad_timestamp", "timestamp is required")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise NormalizeError("bad_timestamp", "timestamp is empty")
        if len(text) > _MAX_TIMESTAMP_TEXT:
            raise NormalizeError("bad_timestamp", "timestamp is too long to be ISO 8601")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise NormalizeError(
                "bad_timestamp", f"timestamp {show(text)} is not a valid ISO 8601 time: {exc}"
            ) from None
    else:
        raise NormalizeError(
            "bad_timestamp",
            f"timestamp must be an ISO 8601 string with a UTC offset, not {type(value).__name__}",
        )
    if dt.tzinfo is None or dt.utcoffset() is None:
        if default_tz is None:
            raise NormalizeError(
                "bad_timestamp",
                f"timestamp {show(str(dt))} has no UTC offset; send e.g. 2011-12-01T08:26:00Z,"
                " or give the parser the source's default time zone",
            )
        dt = dt.replace(tzinfo=default_tz)
    try:
        utc = dt.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not MIN_TIMESTAMP <= utc < MAX_TIMESTAMP:
        raise NormalizeError(
            "bad_timestamp",
            f"timestamp {show(str(dt))} is outside {MIN_TIMESTAMP.year}-{MAX_TIMESTAMP.year}",
        )
    return utc


def _unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SCALARS = frozenset({int, float, bool, type(None)})


def _all_unicode(value: object) -> bool:
    """The fast pass of `invalid_text_at`: no paths, since nearly every record is clean."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) in _SCALARS:
            continue
        if isinstance(item, str):
            if not _unicode(item):
                return False
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _part(key: object) -> str:
    return key if isinstance(key, str) and _unicode(key) else show(key)


def invalid_text_at(value: object) -> str | None:
    """Where in `value` (a string, or a JSON-like tree of dicts and lists) a string or key is not
    Unicode text, as a dotted path ("" for `value` itself); None when all of it is.

    `json.loads` turns the escape "\\ud800" into a lone surrogate, which Python strings allow
    but UTF-8 does not: the store's client and every file writer would fail on it later. Walked
    with a stack, not recursion: the nesting is the producer's choice.
    """
    if _all_unicode(value):
        return None
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not _unicode(item):
                return path
        elif isinstance(item, Mapping):
            for key, child in item.items():
                here = f"{path}.{_part(key)}" if path else _part(key)
                if isinstance(key, str) and not _unicode(key):
                    return here
                stack.append((here, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}.{i}" if path else str(i), c) for i, c in enumerate(item))
    return None


def epoch_ms(dt: datetime) -> int:
    """Epoch milliseconds, the graph's time unit; integer arithmetic, so no float rounding."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _name_key(name: str) -> str:
    text = " ".join(name.replace(".", "").casefold().split())
    return text.removeprefix("the ")


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 code from a code or an English name; None when the source has none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise NormalizeError("invalid_field", "country must be a string")
    text = value.strip()
    if not text:
        return None
    if len(text) == 2 and text.upper() in ISO_COUNTRIES:
        return text.upper()
    key = _name_key(text)
    if key in COUNTRY_NAMES:
        return COUNTRY_NAMES[key]
    if key in UNMAPPED_COUNTRIES:
        return None
    raise NormalizeError(
        "unknown_country",
        f"country {show(text)} is neither an ISO 3166-1 alpha-2 code nor a known country name",
    )


def eshop_country(code: int) -> str | None:
    """The e-shop clickstream's numeric country code as alpha-2 (None for non-countries)."""
    if code not in ESHOP_COUNTRY_CODES:
        raise NormalizeError("unknown_country", f"e-shop country code {code!r} is not 1-47")
    return ESHOP_COUNTRY_CODES[code]


def currency_code(value: object) -> str:
    if not isinstance(value, str):
        raise NormalizeError("invalid_field", "currency must be an ISO 4217 code string")
    code = value.strip().upper()
    if not code:
        raise NormalizeError("missing_field", "currency is empty")
    if code not in ISO_CURRENCIES:
        raise NormalizeError("unknown_currency", f"currency {show(value)} is not an ISO 4217 code")
    return code


def money(value: object) -> float:
    """A non-negative amount: number or decimal string, rounded to `MONEY_DECIMALS` places.

    Decimal strings are accepted because shop platforms send prices that way to keep cents exact.
    Memoised by value and type (prices repeat across a file's lines; the Decimal work is not
    cheap); unhashable input goes straight to the check, which refuses it.
    """
    # exact types (not bool, not subclasses): one set lookup, this runs per order line
    if type(value) in _CACHEABLE and (not isinstance(value, str) or len(value) <= 64):
        return _money_cached(value)
    return _money(value)


_CACHEABLE = frozenset({int, float, str})


@lru_cache(maxsize=1 << 16, typed=True)
def _money_cached(value: int | float | str) -> float:
    return _money(value)


def _money(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise NormalizeError("invalid_field", "amount must be a number or a decimal string")
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise NormalizeError(
                "invalid_field", f"amount {show(value)} is not a decimal number"
            ) from None
    else:
        amount = Decimal(value)
    if not amount.is_finite() or not 0 <= amount <= MAX_MONEY:
        raise NormalizeError(
            "value_out_of_range", f"amount {show(value)} is outside 0..{MAX_MONEY:,}"
        )
    return float(round(amount, MONEY_DECIMALS)) + 0.0  # + 0.0 turns -0.0 into 0.0


def clean_url(value: str) -> str:
    """Scheme, host and path only: query strings and fragments carry e-mails and tokens."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        raise NormalizeError("invalid_field", f"url {show(value)} is not a URL") from None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def language_tag(value: str) -> str:
    """A BCP 47 tag shape check (en, en-GB, pt-BR); not a registry lookup."""
    text = value.strip()
    if not _LANGUAGE_RE.fullmatch(text):
        raise NormalizeError("invalid_field", f"language {show(value)} is not a BCP 47 tag")
    return text


def flag_outliers(
    values: Sequence[float],
    method: Literal["iqr", "zscore"] = "iqr",
    *,
    k: float = 3.0,
    z: float = 4.0,
) -> list[bool]:
    """True for each value outside Tukey's fences (k x IQR) or beyond |z| standard deviations.

    Used to mark records, never to drop them. Non-finite values are always flagged and left out
    of the statistics. Too few values to estimate spread (under 4 for IQR, under 2 for z) or no
    spread at all under z give no flags. With tied data (IQR 0) the fences collapse and any value
    off the common one is flagged, as Tukey's rule says. A single outlier among n values can
    reach at most |z| = (n-1)/sqrt(n) (population deviation), so z=4 needs n >= 18.
    """
    flags = [not math.isfinite(v) for v in values]
    finite = [v for v in values if math.isfinite(v)]
    if method == "iqr":
        if len(finite) < 4:
            return flags
        q1, _, q3 = statistics.quantiles(finite, n=4, method="inclusive")
        low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
        return [f or v < low or v > high for f, v in zip(flags, values, strict=True)]
    if method == "zscore":
        if len(finite) < 2:
            return flags
        mean = statistics.fmean(finite)
        sd = statistics.pstdev(finite, mean)
        if sd == 0 or not math.isfinite(sd):
            return flags
        return [f or abs(v - mean) / sd > z for f, v in zip(flags, values, strict=True)]
    raise ValueError(f"unknown outlier method {method!r}")
