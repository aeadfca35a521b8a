"""What counts as an @mention of an account in a post's text (pure, one definition for
the sources, which pseudonymise handles before anything is stored, and for the
pipeline's normalisation, which hides them from the display text).

@user, @user@instance.social (Mastodon), @name.bsky.social (Bluesky); not e-mail
addresses (a word character or "@" before) nor URL paths ("/" before), except the
relays written without a space, « RT@name: » and « MT@name: », whose "@" follows a
word: left as they were, an old-style retweet kept its handle in the stored text.
"""

from __future__ import annotations

import re

MENTION = re.compile(
    r"(?:(?<![\w@/])|(?<=\bRT)|(?<=\bMT))@([A-Za-z0-9_](?:[\w.-]*[\w])?(?:@[\w-]+(?:\.[\w-]+)+)?)"
)
