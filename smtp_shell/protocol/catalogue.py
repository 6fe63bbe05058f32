"""One catalogue of SMTP reply codes and enhanced status codes, written for students.

Why this exists: a bare "550 5.7.1" teaches nothing. Every place in smtp-shell that gives a
reply meaning -- the colour of a reply, the dim one-line gloss under it, `:explain`,
`smtp-shell explain`, novice hints and lesson feedback -- reads from this one table, so they can
never disagree. Reply codes come from RFC 5321 §4.2 (plus AUTH, RFC 4954; STARTTLS, RFC 3207;
null MX, RFC 7504). Enhanced status codes come from RFC 3463 and the IANA registry (RFC 5248);
they are stored class-independently ("X.7.8") and given their class ("4." or "5.") on lookup.
The texts are our own words, aimed at someone typing SMTP by hand for the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Entry", "all_codes", "class_name", "gloss", "lookup"]


@dataclass(frozen=True)
class Entry:
    code: str                  # "550", "5.7.8" (or "X.7.8" when asked class-independently)
    kind: str                  # "reply" | "enhanced"
    summary: str               # one line in plain words
    explanation: str           # 2-4 sentences, student level
    causes: tuple[str, ...]    # usual causes, each one short sentence
    rfc: str                   # where it is defined, e.g. "RFC 5321 §4.2.3"


# --------------------------------------------------------------------------------------------
# Reply classes and categories (RFC 5321 §4.2.1)

_CLASS_NAMES = {
    2: "success",
    3: "intermediate: send more",
    4: "temporary failure: try again later",
    5: "permanent failure",
}

_CLASS_PREFIX = {2: "Success", 3: "Intermediate", 4: "Temporary failure", 5: "Permanent failure"}

_CLASS_SENTENCE = {
    2: "The first digit 2 means the command worked.",
    3: "The first digit 3 means the server is waiting for more from you before it can finish.",
    4: ("The first digit 4 means a temporary failure: the same command may work later, and a "
        "real mail server would keep the message and retry."),
    5: ("The first digit 5 means a permanent failure: sending the same thing again will fail "
        "the same way until something is changed."),
}

_CATEGORY = {  # second digit
    0: "syntax",
    1: "information (replies to requests for information such as status or help)",
    2: "the connection (the transmission channel)",
    3: "a category RFC 5321 leaves unspecified",
    4: "a category RFC 5321 leaves unspecified",
    5: "the mail system (the state of the receiver, a mailbox or the message)",
}


def class_name(code: int) -> str:
    """The meaning of a reply's first digit. Accepts the digit (5) or a whole code (550)."""
    try:
        n = int(code)
    except (TypeError, ValueError):
        return "unknown class"
    if n >= 100:
        n //= 100
    return _CLASS_NAMES.get(n, "unknown class")


# --------------------------------------------------------------------------------------------
# Reply codes

_R5321_22 = "RFC 5321 §4.2.2"
_R5321_23 = "RFC 5321 §4.2.3"

# code -> (summary, explanation, causes, rfc)
_REPLIES: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "211": (
        "System status or system help reply",
        "The server is answering a request for its status, usually a HELP or a non-standard "
        "status command. It is information only, nothing has changed in the session.",
        ("You sent HELP (or a similar query) and the server answered with status text.",),
        _R5321_23,
    ),
    "214": (
        "Help message",
        "The text after 214 is help meant for a human, for example the list of commands the "
        "server understands. Servers decide themselves how much they say here.",
        ("You sent HELP or HELP with a command name.",),
        _R5321_23,
    ),
    "220": (
        "Service ready (or: ready to start TLS)",
        "At the start of a connection, 220 is the server's greeting: it is ready for your EHLO. "
        "As the reply to STARTTLS it means the server is ready for the TLS handshake; after it "
        "nothing more may be typed in plain text until TLS is set up (RFC 3207).",
        ("The connection was just opened and the server greets you.",
         "You sent STARTTLS and the server agreed to start TLS."),
        "RFC 5321 §4.2.3; RFC 3207 §4",
    ),
    "221": (
        "Closing the connection: goodbye",
        "The server is ending the session, normally because you sent QUIT. After 221 the server "
        "closes the connection, so anything more you type goes nowhere.",
        ("You sent QUIT.",),
        _R5321_23,
    ),
    "235": (
        "Authentication succeeded",
        "The AUTH exchange worked: the server now knows who you are and will usually let you "
        "send mail to other domains (relay). Authentication holds until the connection ends; "
        "a second AUTH in the same session is refused.",
        ("You sent correct credentials with AUTH PLAIN or AUTH LOGIN.",),
        "RFC 4954 §6",
    ),
    "250": (
        "OK: requested action completed",
        "The command worked. After EHLO, the lines of the 250 reply list the extensions the "
        "server supports; after the final '.' of DATA, 250 means the server has taken "
        "responsibility for the message.",
        ("The previous command was accepted.",),
        _R5321_23,
    ),
    "251": (
        "User not local: the server will forward the message",
        "The recipient is not handled here, but the server knows where to send it and accepts "
        "the job of forwarding it. For you it counts as a success.",
        ("The recipient address is handled by another server that this one forwards to.",),
        _R5321_23,
    ),
    "252": (
        "Cannot verify the user, but will accept a message for them",
        "You asked VRFY whether an address exists. The server will not say (to stop people "
        "harvesting addresses) but would still try to deliver mail to it. Most servers answer "
        "VRFY this way today.",
        ("You sent VRFY and the server does not reveal which mailboxes exist.",),
        _R5321_23,
    ),
    "334": (
        "AUTH challenge: send the next piece (base64)",
        "The server is in the middle of an AUTH exchange and waits for your answer on its own "
        "line, base64-encoded. The text after 334 is itself base64: 'VXNlcm5hbWU6' decodes to "
        "'Username:' and 'UGFzc3dvcmQ6' to 'Password:'. Send '*' alone to cancel.",
        ("You sent AUTH LOGIN and the server asks for the username, then the password.",
         "You sent AUTH PLAIN without an initial response and the server asks for it."),
        "RFC 4954 §4",
    ),
    "354": (
        "Start mail input: type the message, end with a line holding only '.'",
        "The server accepted DATA and now reads the message itself: header lines, an empty "
        "line, then the body. Finish with a line containing only a dot. Lines starting with a "
        "dot must have that dot doubled.",
        ("You sent DATA after at least one recipient was accepted.",),
        _R5321_23,
    ),
    "421": (
        "Service not available: the server is closing the connection",
        "The server is shutting this session down, for example because it is overloaded, "
        "restarting, or you were idle for too long. It is temporary: connecting again later "
        "may work. The connection closes right after this reply.",
        ("You were idle longer than the server's timeout.",
         "The server is overloaded or shutting down.",
         "You made too many errors or too many connections and the server gave up on you."),
        "RFC 5321 §4.2.3, §3.8",
    ),
    "432": (
        "A password transition is needed",
        "The server wants you to change your password (or log in once with a stronger "
        "mechanism) before this mechanism can be used. It is temporary: it should work once "
        "the password has been updated.",
        ("The account's password must be changed or converted before it can be used here.",),
        "RFC 4954 §6",
    ),
    "450": (
        "Mailbox unavailable for now: try again later",
        "The action on the mailbox could not be done right now, but may work later. The "
        "mailbox may be busy or locked, or the server is applying a temporary policy.",
        ("The recipient's mailbox is busy or temporarily locked.",
         "Greylisting: the server refuses unknown senders once and accepts a retry.",
         "A temporary policy or DNS problem while checking the address."),
        _R5321_23,
    ),
    "451": (
        "Local error in processing: try again later",
        "Something went wrong on the server's side while handling the command, and the server "
        "asks you to try again later. With 4.7.1 it is often greylisting: the first attempt "
        "from an unknown sender is deferred on purpose, and a retry minutes later is accepted.",
        ("Greylisting (often 451 4.7.1): retry after a few minutes.",
         "A temporary failure on the server, such as a DNS lookup or a database timeout.",
         "A content scanner (virus or spam filter) is unavailable."),
        _R5321_23,
    ),
    "452": (
        "Insufficient storage, or too many recipients",
        "The server cannot take more right now. Either its disk is full, or (very common) you "
        "have given more RCPT TO commands than it accepts for one message. Recipients already "
        "accepted stay accepted: send DATA, then the rest in a new transaction.",
        ("Too many recipients for one message (often 452 4.5.3).",
         "The server's disk or queue is full.",
         "The recipient's mailbox is over quota for now."),
        _R5321_23,
    ),
    "454": (
        "Temporary failure: TLS or authentication not available now",
        "Reply to STARTTLS: TLS cannot be started right now, for example because the server's "
        "certificate is missing. Reply to AUTH: authentication failed for a temporary reason "
        "on the server side, such as its password database being unreachable. Trying again "
        "later may work.",
        ("STARTTLS was refused because TLS is temporarily not available.",
         "The server could not reach its account database during AUTH.",
         "You are being rate-limited after several failed logins."),
        "RFC 3207 §4; RFC 4954 §6",
    ),
    "455": (
        "Server unable to accommodate the parameters now",
        "You gave MAIL FROM or RCPT TO a parameter (such as SIZE=...) that the server "
        "understands but cannot satisfy right now. It may work later or with other parameters.",
        ("A MAIL or RCPT parameter the server cannot honour at the moment.",),
        _R5321_23,
    ),
    "500": (
        "Syntax error: command unrecognized (or line too long)",
        "The server did not understand what you sent as a command at all. It also uses 500 when "
        "a line is longer than allowed; during AUTH, 500 5.5.6 means the base64 line was too "
        "long.",
        ("A typo in the command name, such as 'MIAL FROM'.",
         "You typed message text while not in DATA mode.",
         "The line is too long (over 512 octets for a command).",
         "During AUTH: the base64 answer was longer than the server accepts (500 5.5.6)."),
        "RFC 5321 §4.2.3; RFC 4954 §4",
    ),
    "501": (
        "Syntax error in parameters or arguments",
        "The command was recognised, but what follows it is malformed. For MAIL and RCPT, the "
        "address must be inside angle brackets with no space after the colon. STARTTLS and "
        "QUIT take no arguments at all; for AUTH, 501 often means bad base64.",
        ("Missing angle brackets: 'MAIL FROM:alice@example.com' instead of "
         "'MAIL FROM:<alice@example.com>'.",
         "A space after the colon: 'RCPT TO: <bob@example.com>' (some servers refuse it).",
         "EHLO without a domain name.",
         "STARTTLS with an argument, or AUTH data that is not valid base64."),
        "RFC 5321 §4.2.3; RFC 3207 §4; RFC 4954 §4",
    ),
    "502": (
        "Command not implemented",
        "The server knows this is an SMTP command but does not support it, or has switched it "
        "off. Check the EHLO reply to see what this server actually offers.",
        ("You used VRFY or EXPN and the server has disabled them.",
         "You used an extension (like STARTTLS or AUTH) the server did not advertise."),
        _R5321_23,
    ),
    "503": (
        "Bad sequence of commands",
        "The command is valid but not at this point of the conversation. SMTP has a fixed "
        "order: EHLO, (STARTTLS, EHLO again, AUTH,) MAIL FROM, one or more RCPT TO, DATA.",
        ("You sent RCPT before MAIL.",
         "You sent DATA before any recipient was accepted.",
         "You sent MAIL before EHLO/HELO, or skipped EHLO again after STARTTLS.",
         "You sent MAIL twice without finishing or resetting (RSET) the first transaction.",
         "You sent AUTH after already being authenticated."),
        _R5321_23,
    ),
    "504": (
        "Command parameter not implemented",
        "The command is supported but not with the parameter you gave. For AUTH it means the "
        "server does not offer that mechanism: use one listed after AUTH in the EHLO reply.",
        ("AUTH with a mechanism the server does not offer (e.g. AUTH CRAM-MD5).",
         "A command parameter the server does not support."),
        "RFC 5321 §4.2.3; RFC 4954 §4",
    ),
    "521": (
        "This host does not accept mail",
        "The server states that it never accepts mail at all, so there is no point retrying. "
        "It may be sent as the greeting, or in reply to any command.",
        ("You connected to a host that does not run a mail service for anyone.",),
        "RFC 7504 §3",
    ),
    "530": (
        "Authentication required",
        "The server will not do this until you have logged in with AUTH. Servers that accept "
        "mail from users (submission, port 587) usually require it before MAIL FROM. When the "
        "text says 'Must issue a STARTTLS command first', do STARTTLS and EHLO again first.",
        ("You sent MAIL FROM before AUTH on a submission server.",
         "The server requires TLS first (530 5.7.0 Must issue a STARTTLS command first).",
         "You tried to relay to another domain without logging in."),
        "RFC 4954 §6; RFC 3207 §4",
    ),
    "534": (
        "Authentication mechanism is too weak",
        "The server will not accept the mechanism you chose, at least for this account, "
        "because it considers it not secure enough. Pick a stronger one from the AUTH line of "
        "the EHLO reply.",
        ("You chose a mechanism the server allows only for some accounts.",),
        "RFC 4954 §6",
    ),
    "535": (
        "Authentication failed: credentials invalid",
        "The server decoded your AUTH data and the username/password pair was not accepted. "
        "Check both and how you encoded them: for AUTH LOGIN each is base64 on its own line; "
        "for AUTH PLAIN it is base64 of '\\0user\\0password'.",
        ("Wrong username or password.",
         "The username/password was typed in plain text instead of base64.",
         "The base64 was made with a trailing newline (echo without -n).",
         "AUTH PLAIN built without the two NUL separators."),
        "RFC 4954 §6",
    ),
    "538": (
        "Encryption required for this authentication mechanism",
        "The server will only take this mechanism (usually PLAIN or LOGIN, which send the "
        "password nearly in the clear) over an encrypted connection. Do STARTTLS, EHLO again, "
        "then AUTH.",
        ("You tried AUTH PLAIN or AUTH LOGIN before STARTTLS.",),
        "RFC 4954 §6",
    ),
    "550": (
        "Mailbox unavailable: the recipient was refused",
        "The action was refused for good. Most often the recipient address does not exist "
        "here, but it is also used for policy refusals such as not relaying for strangers or "
        "rejecting a blocked sender. The enhanced code (5.1.1, 5.7.1...) usually tells which.",
        ("The recipient does not exist (often 550 5.1.1).",
         "Relaying denied: the recipient is at another domain and you have not logged in "
         "(often 550 5.7.1).",
         "Your address or IP is blocked by the server's policy."),
        _R5321_23,
    ),
    "551": (
        "User not local: please try another address",
        "The recipient is not handled by this server; the reply may say where to send it "
        "instead. The server will not forward it for you.",
        ("The mailbox has moved and the server tells you the new address.",),
        _R5321_23,
    ),
    "552": (
        "Exceeded storage allocation: message too big or mailbox full",
        "The message is larger than the server accepts, or the recipient's storage is full. "
        "The SIZE line of the EHLO reply says the largest message this server takes.",
        ("The message is bigger than the SIZE limit from EHLO.",
         "MAIL FROM declared SIZE=... above the limit.",
         "The recipient's mailbox is over quota.",
         "Too many recipients, on some servers."),
        "RFC 5321 §4.2.3; RFC 1870",
    ),
    "553": (
        "Mailbox name not allowed",
        "The address itself is not acceptable: wrong syntax, or a sender address you are not "
        "allowed to use. Addresses go inside angle brackets, like <alice@example.com>.",
        ("The address is malformed (missing @, spaces, bad characters).",
         "You are logged in but sending as an address that is not yours."),
        _R5321_23,
    ),
    "554": (
        "Transaction failed (or: no SMTP service here)",
        "A permanent refusal. After the final '.' of DATA it means the message content was "
        "rejected, typically by a spam or virus filter. As a greeting it means the server will "
        "not talk to you at all.",
        ("After DATA: the content was rejected as spam, a virus, or against policy.",
         "As the greeting: your IP address is on a block list.",
         "Missing or malformed mandatory headers (From, Date) on strict servers."),
        "RFC 5321 §4.2.3, §3.1",
    ),
    "555": (
        "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        "You added a parameter after the address (like SIZE=, BODY=8BITMIME or SMTPUTF8) that "
        "the server does not know. Only use parameters of extensions listed in the EHLO reply.",
        ("A parameter for an extension the server did not advertise.",
         "A typo in a parameter name.",
         "Parameters used after HELO instead of EHLO."),
        _R5321_23,
    ),
    "556": (
        "The recipient's domain does not accept mail",
        "The domain of the address declares that it receives no mail at all (a 'null MX' "
        "record), so the message can never be delivered.",
        ("The recipient domain publishes a null MX record.",
         "A typo in the recipient's domain name."),
        "RFC 7504 §3; RFC 7505",
    ),
}


# --------------------------------------------------------------------------------------------
# Enhanced status codes, class-independent: "X.subject.detail"

_SUBJECTS = {
    0: ("Other or undefined status", "status with no more specific subject"),
    1: ("Addressing status", "a problem with an address (sender or recipient)"),
    2: ("Mailbox status", "a problem with the recipient's mailbox"),
    3: ("Mail system status", "a problem with the receiving mail system"),
    4: ("Network and routing status", "a problem with the network or with routing the message"),
    5: ("Mail delivery protocol status", "a problem with the SMTP conversation itself"),
    6: ("Message content or media status", "a problem with the content of the message"),
    7: ("Security or policy status", "a security or policy decision"),
}

_R3463 = "RFC 3463 §3."

_ENHANCED: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    # --- X.0: other
    "X.0.0": (
        "other or undefined status",
        "The server gives no detail beyond the class. Read the human text of the reply for "
        "more; 2.0.0 simply means OK.",
        ("Anything the server chose not to classify.",),
        "RFC 3463 §3.1",
    ),
    # --- X.1: addressing
    "X.1.0": (
        "other address status",
        "Something about an address, with no more detail. 2.1.0 is commonly used for "
        "'sender OK' after MAIL FROM.",
        ("A problem with the sender or recipient address that the server does not detail.",),
        _R3463 + "2",
    ),
    "X.1.1": (
        "bad destination mailbox: no such user",
        "The part before the @ of the recipient address does not exist on the destination "
        "system. This is the classic 'user unknown'.",
        ("A typo in the recipient's user name.",
         "The account was deleted.",
         "The lab server or test server has no such mailbox."),
        _R3463 + "2",
    ),
    "X.1.2": (
        "bad destination system: the recipient's domain is wrong",
        "The domain part of the recipient address (after the @) does not exist or does not "
        "accept mail, or this server is not willing to deliver to it.",
        ("A typo in the recipient's domain.",
         "The domain has no MX or address records.",
         "The server does not relay to that domain."),
        _R3463 + "2",
    ),
    "X.1.3": (
        "bad destination mailbox address syntax",
        "The recipient address is not written correctly, so the server cannot even tell "
        "whether it exists.",
        ("Missing angle brackets or @, spaces, or invalid characters in the address.",
         "Non-ASCII characters without SMTPUTF8."),
        _R3463 + "2",
    ),
    "X.1.4": (
        "destination mailbox address ambiguous",
        "The recipient address matches more than one mailbox, so the server does not know "
        "which one you mean.",
        ("A partial name that matches several users on systems that do fuzzy matching.",),
        _R3463 + "2",
    ),
    "X.1.5": (
        "destination address valid",
        "The recipient address is fine. Used with success codes, usually after RCPT TO.",
        ("RCPT TO was accepted.",),
        _R3463 + "2",
    ),
    "X.1.6": (
        "destination mailbox has moved, no forwarding address",
        "The recipient used to be here but has gone, and no new address is known.",
        ("The person left the organisation.",),
        _R3463 + "2",
    ),
    "X.1.7": (
        "bad sender's mailbox address syntax",
        "The address you gave in MAIL FROM is not written correctly.",
        ("Missing angle brackets or @ in MAIL FROM.",
         "Spaces or invalid characters in the sender address."),
        _R3463 + "2",
    ),
    "X.1.8": (
        "bad sender's system address",
        "The domain of the sender address is not valid or does not exist, so replies and "
        "bounces could not reach it.",
        ("A made-up sender domain that does not resolve in DNS.",
         "A sender domain with a typo."),
        _R3463 + "2",
    ),
    "X.1.10": (
        "recipient address has null MX",
        "The recipient's domain publishes a 'null MX' record, which says it never receives "
        "mail. Delivery is impossible.",
        ("The recipient domain is configured to accept no mail.",),
        "RFC 7505 §4.2",
    ),
    # --- X.2: mailbox
    "X.2.0": (
        "other or undefined mailbox status",
        "The mailbox exists, but something about it stops delivery; the server does not say "
        "what.",
        ("A mailbox problem the server does not detail.",),
        _R3463 + "3",
    ),
    "X.2.1": (
        "mailbox disabled, not accepting messages",
        "The mailbox exists but has been switched off, for example a suspended account.",
        ("The recipient's account is suspended or disabled.",),
        _R3463 + "3",
    ),
    "X.2.2": (
        "mailbox full",
        "The recipient's mailbox is over its storage quota. With a 4 it may clear up later, "
        "when the owner deletes mail.",
        ("The recipient has not cleaned up their mailbox.",),
        _R3463 + "3",
    ),
    "X.2.3": (
        "message too long for this mailbox",
        "The message is bigger than the limit set for this recipient or site.",
        ("A large attachment.",
         "The per-user message size limit is smaller than the server-wide SIZE."),
        _R3463 + "3",
    ),
    "X.2.4": (
        "mailing list expansion problem",
        "The recipient is a mailing list, and something went wrong expanding it into its "
        "members.",
        ("A broken mailing list configuration on the receiving side.",),
        _R3463 + "3",
    ),
    # --- X.3: mail system
    "X.3.0": (
        "other or undefined mail system status",
        "The receiving mail system has a problem it does not describe further.",
        ("A server-side problem not otherwise classified.",),
        _R3463 + "4",
    ),
    "X.3.1": (
        "mail system full",
        "The receiving server has no room left (disk or queue).",
        ("The server's disk or queue is full.",),
        _R3463 + "4",
    ),
    "X.3.2": (
        "system not accepting network messages",
        "The server is up but is not taking mail from the network right now, for example "
        "during maintenance or shutdown.",
        ("The server is being shut down or is in maintenance.",),
        _R3463 + "4",
    ),
    "X.3.3": (
        "system not capable of selected features",
        "You asked for a feature (through an extension or a parameter) that this server "
        "cannot provide.",
        ("A MAIL or RCPT parameter for an extension the server lacks.",),
        _R3463 + "4",
    ),
    "X.3.4": (
        "message too big for system",
        "The message is larger than anything this server accepts. Compare with the SIZE value "
        "of the EHLO reply.",
        ("The message (with base64-encoded attachments) is over the SIZE limit.",),
        _R3463 + "4",
    ),
    "X.3.5": (
        "system incorrectly configured",
        "The server admits that its own configuration is broken; nothing you send will fix it.",
        ("A configuration error on the receiving server.",),
        _R3463 + "4",
    ),
    "X.3.6": (
        "requested priority was changed",
        "The server accepted the message but at a different priority than the MT-PRIORITY you "
        "asked for.",
        ("MAIL FROM used MT-PRIORITY=... above what this sender may use.",),
        "RFC 6710 §5",
    ),
    # --- X.4: network and routing
    "X.4.0": (
        "other or undefined network or routing status",
        "Something went wrong in the network or in routing the message, without more detail.",
        ("A network or routing problem the server does not detail.",),
        _R3463 + "5",
    ),
    "X.4.1": (
        "no answer from host",
        "The next server on the way could not be reached: the connection attempt got no "
        "answer.",
        ("The destination server is down or blocked by a firewall.",),
        _R3463 + "5",
    ),
    "X.4.2": (
        "bad connection",
        "A connection to the next server was made, but it failed during the exchange.",
        ("The connection dropped or timed out in the middle of the transfer.",),
        _R3463 + "5",
    ),
    "X.4.3": (
        "directory server failure (often DNS)",
        "A lookup the server needed, typically DNS, failed. With a 4 it usually passes.",
        ("A DNS server timed out or failed.",),
        _R3463 + "5",
    ),
    "X.4.4": (
        "unable to route",
        "The server found no way to reach the destination, for instance no MX or address "
        "records for the domain.",
        ("The recipient domain has no mail server in DNS.",),
        _R3463 + "5",
    ),
    "X.4.5": (
        "mail system congestion",
        "The server is too busy to take the message now. Try again later.",
        ("The server is overloaded.",
         "You are being rate-limited for sending too much too fast."),
        _R3463 + "5",
    ),
    "X.4.6": (
        "routing loop detected",
        "The message has passed through too many servers (too many Received: lines), which "
        "suggests it is going round in circles.",
        ("Two servers forward the same address to each other.",),
        _R3463 + "5",
    ),
    "X.4.7": (
        "delivery time expired",
        "The message waited in a queue too long without being delivered, and the server gave "
        "up.",
        ("The destination was unreachable for days.",),
        _R3463 + "5",
    ),
    # --- X.5: protocol
    "X.5.0": (
        "other or undefined protocol status",
        "Something in the SMTP conversation went wrong, without more detail.",
        ("A protocol problem the server does not detail.",),
        _R3463 + "6",
    ),
    "X.5.1": (
        "invalid command",
        "The command is not known, not allowed here, or out of order.",
        ("A typo in the command name.",
         "A command sent at the wrong point of the session (RCPT before MAIL, DATA before "
         "RCPT)."),
        _R3463 + "6",
    ),
    "X.5.2": (
        "syntax error",
        "The command could not be parsed. The command may be fine but its arguments are "
        "written wrongly.",
        ("Missing angle brackets around an address.",
         "A bare LF instead of CRLF, or stray characters."),
        _R3463 + "6",
    ),
    "X.5.3": (
        "too many recipients",
        "You have given more RCPT TO commands than the server allows for one message. The ones "
        "already accepted stay accepted; send the rest in another transaction.",
        ("Too many RCPT TO commands in one transaction.",),
        _R3463 + "6",
    ),
    "X.5.4": (
        "invalid command arguments",
        "The command is valid but an argument is not acceptable, for example an unknown "
        "parameter or a value out of range.",
        ("An unknown MAIL/RCPT parameter.",
         "An argument given to a command that takes none (STARTTLS, QUIT)."),
        _R3463 + "6",
    ),
    "X.5.5": (
        "wrong protocol version",
        "The two sides do not speak compatible versions of the protocol.",
        ("A client speaking something other than SMTP to the server.",),
        _R3463 + "6",
    ),
    "X.5.6": (
        "authentication exchange line is too long",
        "During AUTH, the base64 line you sent is longer than the server accepts.",
        ("A very long AUTH initial response or token.",),
        "RFC 4954 §4",
    ),
    # --- X.6: content
    "X.6.0": (
        "other or undefined media error",
        "Something about the message content stops delivery, without more detail.",
        ("A content problem the server does not detail.",),
        _R3463 + "7",
    ),
    "X.6.1": (
        "media not supported",
        "The message uses a kind of content the destination cannot handle.",
        ("8-bit content to a server that did not advertise 8BITMIME.",
         "A content type the destination refuses."),
        _R3463 + "7",
    ),
    "X.6.2": (
        "conversion required and prohibited",
        "The content would have to be converted to be delivered, but the sender forbade "
        "conversion.",
        ("A message marked as not-to-be-converted that the destination cannot take as is.",),
        _R3463 + "7",
    ),
    "X.6.3": (
        "conversion required but not supported",
        "The content would have to be converted to be delivered, and this server cannot do "
        "that conversion.",
        ("8-bit or binary content that would need re-encoding to 7-bit.",),
        _R3463 + "7",
    ),
    "X.6.4": (
        "conversion with loss performed",
        "The message was delivered, but converting it lost some information.",
        ("The content had to be downgraded for the destination.",),
        _R3463 + "7",
    ),
    "X.6.5": (
        "conversion failed",
        "The server tried to convert the content and the conversion did not work.",
        ("A malformed MIME structure that could not be re-encoded.",),
        _R3463 + "7",
    ),
    "X.6.6": (
        "message content not available",
        "Content that the message refers to (for BURL) could not be fetched.",
        ("A BURL reference the server could not retrieve.",),
        "RFC 4468 §7",
    ),
    "X.6.7": (
        "non-ASCII addresses not permitted",
        "An address contains non-ASCII characters (like 'é') but this transaction cannot carry "
        "them. Internationalised addresses need the SMTPUTF8 extension, requested with the "
        "SMTPUTF8 parameter on MAIL FROM.",
        ("A UTF-8 address without 'SMTPUTF8' on MAIL FROM.",
         "A UTF-8 address to a server that does not advertise SMTPUTF8."),
        "RFC 6531 §3.5",
    ),
    "X.6.8": (
        "UTF-8 reply required but not permitted by the client",
        "The server would need to answer in UTF-8, but the client did not ask for SMTPUTF8.",
        ("The client did not use SMTPUTF8 on MAIL FROM.",),
        "RFC 6531 §3.5",
    ),
    "X.6.9": (
        "UTF-8 header message cannot be transferred",
        "The message has UTF-8 headers and one of the next servers cannot accept them.",
        ("A server further along the path lacks SMTPUTF8.",),
        "RFC 6531 §3.5",
    ),
    # --- X.7: security or policy
    "X.7.0": (
        "other or undefined security status",
        "A security or policy decision, without more detail. Commonly seen with 530 "
        "('authentication required', 'must issue a STARTTLS command first') and with 454 "
        "(temporary authentication failure); 2.7.0 after AUTH means you are logged in.",
        ("You must log in (AUTH) first.",
         "You must start TLS (STARTTLS, then EHLO again) first.",
         "A temporary failure in the server's authentication service."),
        _R3463 + "8; RFC 4954 §6",
    ),
    "X.7.1": (
        "delivery not authorized, message refused",
        "The server refuses because of its policy: you are not allowed to send this message "
        "here. With 4.7.1 it is very often greylisting, which accepts a retry a few minutes "
        "later.",
        ("Relay denied: recipient at another domain and you have not logged in.",
         "Your IP address or sender domain is on a block list.",
         "Greylisting (451 4.7.1): retry in a few minutes.",
         "An SPF/DKIM/DMARC check failed."),
        _R3463 + "8",
    ),
    "X.7.2": (
        "mailing list expansion prohibited",
        "You are not allowed to send to this mailing list.",
        ("The list accepts posts from members only.",),
        _R3463 + "8",
    ),
    "X.7.3": (
        "security conversion required but not possible",
        "Delivering the message would need a security conversion (for example re-encrypting) "
        "that cannot be done.",
        ("A secured message that the destination cannot receive in its current form.",),
        _R3463 + "8",
    ),
    "X.7.4": (
        "security features not supported",
        "The message or request uses a security feature that this system does not support.",
        ("A security option the server does not implement.",),
        _R3463 + "8",
    ),
    "X.7.5": (
        "cryptographic failure",
        "A cryptographic operation on the message, such as checking a signature, failed.",
        ("A broken signature or unusable key.",),
        _R3463 + "8",
    ),
    "X.7.6": (
        "cryptographic algorithm not supported",
        "The message uses a cryptographic algorithm that this system cannot handle.",
        ("A signature or encryption algorithm the server does not know.",),
        _R3463 + "8",
    ),
    "X.7.7": (
        "message integrity failure",
        "The message was changed on its way or its integrity check failed.",
        ("The content was altered after being signed.",),
        _R3463 + "8",
    ),
    "X.7.8": (
        "authentication credentials invalid: wrong username or password",
        "The AUTH exchange finished but the username and password did not match. Check the "
        "values and their base64 encoding.",
        ("Wrong username or password.",
         "Username or password typed in plain text instead of base64.",
         "Base64 made with a trailing newline (use echo -n, or :b64).",
         "AUTH PLAIN without the two NUL separators."),
        "RFC 4954 §6",
    ),
    "X.7.9": (
        "authentication mechanism is too weak",
        "The mechanism you chose is not strong enough for this account or server.",
        ("A weak mechanism that the server allows only for some users.",),
        "RFC 4954 §6",
    ),
    "X.7.10": (
        "encryption needed",
        "An encrypted connection is needed for what you asked, for example to use the "
        "requested authentication mechanism. Start TLS first.",
        ("AUTH or MAIL attempted before STARTTLS.",),
        "RFC 5248 §2.4",
    ),
    "X.7.11": (
        "encryption required for the requested authentication mechanism",
        "This mechanism may only be used over TLS. Do STARTTLS, EHLO again, then AUTH.",
        ("AUTH PLAIN or AUTH LOGIN before STARTTLS.",),
        "RFC 4954 §6",
    ),
    "X.7.12": (
        "a password transition is needed",
        "The account's password must be changed (or converted) before this mechanism works.",
        ("The password has expired or must be updated.",),
        "RFC 4954 §6",
    ),
    "X.7.13": (
        "user account disabled",
        "The account you logged in with, or are sending as, has been disabled.",
        ("The account was suspended by an administrator.",),
        "RFC 5248 §2.4",
    ),
    "X.7.14": (
        "trust relationship required",
        "The server only accepts this from hosts or senders it has a trust arrangement with.",
        ("Sending from a host the server does not trust.",),
        "RFC 5248 §2.4",
    ),
    "X.7.15": (
        "priority level is too low",
        "The MT-PRIORITY you asked for is below what the server accepts now.",
        ("A low-priority message during congestion.",),
        "RFC 6710 §5",
    ),
    "X.7.16": (
        "message too big for the specified priority",
        "The message is larger than the server allows at the MT-PRIORITY you asked for.",
        ("A large message sent with a priority that has a smaller size limit.",),
        "RFC 6710 §5",
    ),
    "X.7.17": (
        "mailbox owner has changed",
        "The recipient mailbox changed owner since the date you gave with RRVS, so the "
        "message is not delivered.",
        ("The address was reassigned to another person.",),
        "RFC 7293 §3.3",
    ),
    "X.7.18": (
        "domain owner has changed",
        "The recipient domain changed owner since the date you gave with RRVS.",
        ("The domain was sold or transferred.",),
        "RFC 7293 §3.3",
    ),
    "X.7.19": (
        "RRVS test cannot be completed",
        "The server could not check the RRVS date you asked it to verify.",
        ("The server has no ownership history for the mailbox.",),
        "RFC 7293 §3.3",
    ),
    "X.7.20": (
        "no passing DKIM signature found",
        "The server requires a valid DKIM signature and the message had none that verified.",
        ("The message was not DKIM-signed, or the signature broke in transit.",),
        "RFC 7372 §3.1",
    ),
    "X.7.21": (
        "no acceptable DKIM signature found",
        "Some DKIM signatures verified, but none met the server's policy.",
        ("A signature from a domain the receiver does not accept.",),
        "RFC 7372 §3.1",
    ),
    "X.7.22": (
        "no valid author-matched DKIM signature found",
        "No valid DKIM signature matches the domain in the From: header.",
        ("The message is signed by a domain other than the author's.",),
        "RFC 7372 §3.1",
    ),
    "X.7.23": (
        "SPF validation failed",
        "The sending host is not allowed by the sender domain's SPF record to send its mail.",
        ("Sending as a domain from a server not listed in its SPF record.",),
        "RFC 7372 §3.2",
    ),
    "X.7.24": (
        "SPF validation error",
        "The SPF check could not be completed, for example because of a DNS problem or a "
        "broken record.",
        ("A malformed SPF record, or DNS failure during the check.",),
        "RFC 7372 §3.2",
    ),
    "X.7.25": (
        "reverse DNS validation failed",
        "The sending IP address has no matching reverse DNS name, which the server requires.",
        ("Sending from a home connection or a host without a PTR record.",),
        "RFC 7372 §3.3",
    ),
    "X.7.26": (
        "multiple authentication checks failed",
        "Several sender checks (such as SPF and DKIM) failed together.",
        ("A forged or misconfigured sender domain.",),
        "RFC 7372 §3.4",
    ),
    "X.7.27": (
        "sender address has null MX",
        "The sender's domain says it receives no mail, so bounces could never be returned; "
        "the server refuses it as a sender.",
        ("A sender domain with a null MX record.",),
        "RFC 7505 §4.2",
    ),
    "X.7.30": (
        "REQUIRETLS support required",
        "The message asked for TLS all the way (REQUIRETLS) and the next hop cannot guarantee "
        "it.",
        ("A server on the path does not support REQUIRETLS.",),
        "RFC 8689 §5",
    ),
}


# --------------------------------------------------------------------------------------------
# Lookup

_REPLY_RE = re.compile(r"([0-9]{3})(?:[ -]|$)")
_ENH_RE = re.compile(r"([245Xx])\.([0-9]{1,3})\.([0-9]{1,3})(?=\s|$)")


def _reply_entry(code: str) -> Entry | None:
    data = _REPLIES.get(code)
    if data is not None:
        summary, explanation, causes, rfc = data
        return Entry(code, "reply", summary, explanation, causes, rfc)
    n = int(code)
    if not 200 <= n <= 599:
        return None
    first, second = n // 100, (n // 10) % 10
    category = _CATEGORY.get(second, "a category RFC 5321 does not define")
    summary = f"{code[:2]}x: {_CLASS_PREFIX[first].lower()}, about {category.split(' (')[0]}"
    explanation = (
        f"{code} is not a standard reply code smtp-shell knows, but its digits still carry "
        f"meaning. {_CLASS_SENTENCE[first]} The second digit {second} is about {category}. "
        "Read the text of the reply for the details."
    )
    causes = ("A server-specific reply code; the human text after it says more.",)
    return Entry(code, "reply", summary, explanation, causes, "RFC 5321 §4.2.1")


def _enhanced_entry(klass: str, subject: int, detail: int) -> Entry:
    code = f"{klass}.{subject}.{detail}"
    key = f"X.{subject}.{detail}"
    data = _ENHANCED.get(key)
    cls = int(klass) if klass.isdigit() else None
    if data is not None:
        summary, explanation, causes, rfc = data
        if cls is not None:
            summary = f"{_CLASS_PREFIX[cls]}: {summary}"
            explanation = f"{explanation} {_enh_class_sentence(cls)}"
        else:
            summary = summary[:1].upper() + summary[1:]
        return Entry(code, "enhanced", summary, explanation, causes, rfc)
    title, about = _SUBJECTS.get(subject, ("Unregistered subject", "a subject RFC 3463 does not define"))
    summary = f"{klass}.{subject}.x: {title}"
    explanation = (
        f"{code} is not in smtp-shell's catalogue, but its parts still mean something: the "
        f"middle number {subject} says it is {about}."
    )
    if cls is not None:
        explanation += " " + _enh_class_sentence(cls)
    explanation += " The text of the reply usually says more."
    causes = ("A less common or server-specific detail code; read the reply text.",)
    return Entry(code, "enhanced", summary, explanation, causes, "RFC 3463 §3; IANA SMTP Enhanced Status Codes")


def _enh_class_sentence(cls: int) -> str:
    return {
        2: "The leading 2 marks it as a success report.",
        4: "The leading 4 marks it as temporary: the same thing may work later.",
        5: "The leading 5 marks it as permanent: retrying unchanged will fail again.",
    }[cls]


def lookup(code: str) -> Entry | None:
    """The entry for "550", "5.7.8", "X.7.8", or the code at the start of a reply line.

    "550 5.1.1 no such user" gives the 550 entry; "5.7.8 bad password" gives 5.7.8. Unknown
    enhanced codes and unknown 3-digit codes in 200-599 get an entry built from their parts;
    anything else gives None. Never raises.
    """
    if not isinstance(code, str):
        return None
    text = code.strip()
    m = _REPLY_RE.match(text)
    if m:
        return _reply_entry(m.group(1))
    m = _ENH_RE.match(text)
    if m:
        klass = m.group(1).upper()
        return _enhanced_entry(klass, int(m.group(2)), int(m.group(3)))
    return None


def _is_specific(enhanced: str) -> bool:
    m = _ENH_RE.fullmatch(enhanced.strip())
    if not m or m.group(1) in "Xx":
        return False
    subject, detail = int(m.group(2)), int(m.group(3))
    return detail != 0 and f"X.{subject}.{detail}" in _ENHANCED


def gloss(code: int, enhanced: str | None = None) -> str:
    """The one dim line shown after a reply: the enhanced code's meaning if it is specific
    (a known code whose detail is not 0), else the reply code's."""
    if enhanced and _is_specific(enhanced):
        entry = lookup(enhanced)
        if entry is not None:
            return entry.summary
    entry = lookup(f"{code:03d}") if isinstance(code, int) and 0 <= code <= 999 else None
    if entry is not None:
        return entry.summary
    return "not a standard SMTP reply code"


def all_codes() -> list[str]:
    """Every catalogued code: reply codes ("550"), then enhanced codes class-independently
    ("X.7.8"); each resolves with `lookup`."""
    def key(c: str) -> tuple[int, ...]:
        return tuple(int(p) for p in c[2:].split("."))
    return sorted(_REPLIES) + sorted(_ENHANCED, key=key)
