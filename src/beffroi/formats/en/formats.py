# A crisis room and its partners read times on the 24-hour clock, whatever the language:
# Django's English default ("8:18 p.m.") sat next to "20:18" on the same page, and a
# sentence ending in "p.m." got a second full stop.
DATETIME_FORMAT = "N j, Y, H:i"
TIME_FORMAT = "H:i"
# Year first: "11/24/2026" reads as 11 April to most of the people this English is for.
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
