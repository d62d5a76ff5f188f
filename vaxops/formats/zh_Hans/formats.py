"""Simplified Chinese dates as a health commission writes them: 2021年6月1日, 2021年6月1日 19:00."""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "Y年n月"
# Django's own module writes 06月1日; the month is not zero-padded anywhere else.
MONTH_DAY_FORMAT = "n月j日"
