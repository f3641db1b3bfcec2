"""One date format everywhere (issue 16): « mercredi 9 décembre 2026 » in running text (DATE_FORMAT,
core.dates.long_date), 09/12/2026 in tables (SHORT_DATE_FORMAT). Templates name these formats
(`|date:"DATE_FORMAT"`, `|date:"SHORT_DATE_FORMAT"`), never a pattern of their own."""

DATE_FORMAT = "l j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = r"l j F Y à H\hi"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
