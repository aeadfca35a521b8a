# A crisis room and its partners read times on the 24-hour clock, whatever the language:
# Django's English default ("8:18 p.m.") sat next to "20:18" on the same page, and a
# sentence ending in "p.m." got a second full stop.
DATETIME_FORMAT = "N j, Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
