"""Numbers, money, percentages, ratios and years across Korean and English.

The assistant answers in English or Korean from a Korean machine translation (and some English
sources), so "$307 million" must be checked against "3억 700만 달러". ``extract`` finds every
number-bearing expression and turns it into a :class:`Quantity` in base units; ``compare``
matches quantities across languages; ``format`` renders them.
"""

from assistant.numbers.compare import same_quantity, unsupported_quantities
from assistant.numbers.extract import find_quantities
from assistant.numbers.format import annotate_ko, english_amounts, format_en, format_ko
from assistant.numbers.quantity import Quantity

__all__ = [
    "Quantity",
    "annotate_ko",
    "english_amounts",
    "find_quantities",
    "format_en",
    "format_ko",
    "same_quantity",
    "unsupported_quantities",
]
