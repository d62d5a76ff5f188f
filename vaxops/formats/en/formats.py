"""English dates, day first and the month in words (1 June 2021, 1 June 2021 19:00): neither
an American nor a British reader can misread them, and the clock is the campaign's 24-hour one."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
