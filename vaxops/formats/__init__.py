"""Django format modules (settings.FORMAT_MODULE_PATH): one way to write a date per language.

``core.formats.format_date`` reads ``DATE_FORMAT`` from here, and templates read the same
formats through the ``date`` filter, so every date on a page, in a report and in an API
message reads alike: zh-Hans 2021年6月1日, English 1 June 2021. The short forms are the same
as the long ones on purpose: a "short" date that reads 06/01/2021 is ambiguous across readers.
"""
