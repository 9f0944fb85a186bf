"""Domain signals (blinker): how a lower service package tells a higher one that something
happened without importing it (see docs/architecture.md, "Service packages").

Receivers connect at import time of their module; `create_app` imports every service
package that receives, so a signal sent in a request always has its receivers."""
from blinker import Namespace

_signals = Namespace()

#: a `blocklogin` restriction was just enabled (access.restrictions): every session ends
#: (accounts.sessions). Sent with sender=the Restriction.
blocklogin_enabled = _signals.signal("blocklogin-enabled")

#: something the KYC queue's "waiting since" depends on changed for a user — the `document`
#: label was set, changed or removed (accounts.labels, operators.admin_users): the verification
#: layer recomputes users.kyc_waiting_since (verification.kyc_review.refresh_waiting).
#: Sent with sender=the User, after the change is flushed.
kyc_waiting_changed = _signals.signal("kyc-waiting-changed")
