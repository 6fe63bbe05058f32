"""What a client can do wrong, as data: one row per rule, with the rule it breaks and the fix.

The session analyser (analyser.py, messagecheck.py) reports `Finding`s that name a rule here
and carry the evidence (the exact line, bytes shown visibly). The rubric, `check-client`'s
output, the web view and docs/check-client.md all read the same table, so a finding always
says the same thing wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtp_shell.address import escape_bytes as visible_bytes  # evidence: bytes shown by the one policy

__all__ = ["RULES", "Finding", "Rule", "visible_bytes"]


@dataclass(frozen=True)
class Rule:
    title: str
    broken: str  # the rule, with where it is written
    fix: str


RULES: dict[str, Rule] = {
    # line ends and timing
    "bare-lf": Rule("a line ends in LF without CR",
                    "RFC 5321 §2.3.8: every line ends in CRLF (\\r\\n); a bare LF is not a line end",
                    "send b'\\r\\n' after every line, including each line of the message and the final '.'"),
    "bare-cr": Rule("a CR that does not end a line",
                    "RFC 5321 §2.3.8: CR may only appear as part of CRLF",
                    "remove the stray \\r, or follow it with \\n to end the line"),
    "no-line-end": Rule("a line without any line end",
                        "RFC 5321 §2.3.8: every command ends in CRLF, or the server keeps waiting",
                        "end the command with b'\\r\\n'"),
    "early-talker": Rule("spoke before the greeting",
                         "RFC 5321 §3.1: the client waits for the 220 greeting before its first command",
                         "read the 220 reply right after connecting, before sending EHLO"),
    "pipelining-not-offered": Rule("sent commands without waiting for the replies",
                                   "RFC 5321 §4.3.1 / RFC 2920: without PIPELINING in the EHLO reply, "
                                   "each command waits for the previous reply",
                                   "after each command, read its whole reply (up to the line with a space "
                                   "after the code) before sending the next"),
    "no-wait": Rule("did not wait for a reply that must come first",
                    "RFC 2920 §3.1, RFC 3207, RFC 4954: EHLO, STARTTLS, AUTH, DATA, QUIT end a group; "
                    "the client waits for their reply",
                    "read the reply (220, 334, 354, 250 ...) before sending what comes next"),
    "data-before-354": Rule("sent the message before the 354 reply",
                            "RFC 5321 §4.1.1.4: the message text follows the 354 reply to DATA",
                            "send DATA, read the 354 reply, then send the message"),
    "command-too-long": Rule("a command line is too long",
                             "RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF",
                             "shorten the command (long addresses and parameters are a sign of a bug)"),
    # greeting and EHLO
    "ehlo-syntax": Rule("the EHLO/HELO name is not a domain or an address literal",
                        "RFC 5321 §4.1.1.1: EHLO SP ( Domain / address-literal ), e.g. EHLO client.example "
                        "or EHLO [127.0.0.1]",
                        "send your machine's host name, or its IP address in brackets, e.g. EHLO [127.0.0.1]"),
    "helo-not-ehlo": Rule("used HELO instead of EHLO",
                          "RFC 5321 §4.1.1.1: only EHLO gets the extensions (STARTTLS, AUTH, SIZE ...)",
                          "start with EHLO; fall back to HELO only when EHLO gets 500 or 502"),
    "no-ehlo-after-tls": Rule("no new EHLO after STARTTLS",
                              "RFC 3207 §4.2: after TLS starts the server forgets everything; the client "
                              "must send EHLO again",
                              "send EHLO again right after the TLS handshake, before AUTH or MAIL"),
    "starttls-injection": Rule("sent plaintext after STARTTLS before the TLS handshake",
                               "RFC 3207 §4.2 / §6: nothing may follow STARTTLS until TLS runs; the server "
                               "discards it",
                               "after the 220 reply to STARTTLS, wrap the socket and do the handshake first"),
    "tls-not-completed": Rule("the TLS handshake never completed",
                              "RFC 3207 §4: after 220 the client starts TLS at once; the session closed "
                              "before a handshake succeeded",
                              "wrap the socket with ssl.create_default_context(cafile=THE LAB'S CA FILE) and "
                              "server_hostname='localhost'; print the exception your program got"),
    # AUTH
    "auth-before-tls": Rule("AUTH before STARTTLS",
                            "RFC 4954 §4 / RFC 3207: a password must not cross the network in clear text",
                            "send STARTTLS (and EHLO again) before AUTH"),
    "auth-bad-base64": Rule("an AUTH answer that is not valid base64",
                            "RFC 4954 §4: every answer to a 334 challenge is base64",
                            "encode with base64.b64encode(text.encode()).decode() and send that"),
    "auth-newline": Rule("the base64 hides a trailing newline",
                         "RFC 4954 / RFC 4616: the user name and password are encoded exactly, without "
                         "a line end",
                         "encode the text itself, not a line read with input() or echo; strip '\\n' "
                         "before base64"),
    "auth-failed": Rule("the login was refused",
                        "the server replied 535: wrong user name or password",
                        "check the account printed by the lab server, and decode your base64 to compare"),
    # envelope
    "mail-syntax": Rule("MAIL FROM is not MAIL FROM:<address>",
                        "RFC 5321 §4.1.1.2: MAIL FROM:<reverse-path>, no space after the colon, "
                        "angle brackets required",
                        "send exactly MAIL FROM:<you@example.org>"),
    "rcpt-syntax": Rule("RCPT TO is not RCPT TO:<address>",
                        "RFC 5321 §4.1.1.3: RCPT TO:<forward-path>, one address per RCPT, angle brackets "
                        "required",
                        "send one RCPT TO:<them@example.org> per recipient"),
    "smtputf8-missing": Rule("a non-ASCII address without SMTPUTF8",
                             "RFC 6531 §3.4: a UTF-8 address needs the SMTPUTF8 parameter on MAIL",
                             "add SMTPUTF8 to MAIL FROM, e.g. MAIL FROM:<you@example.org> SMTPUTF8"),
    # the message
    "data-unfinished": Rule("the message was never ended",
                            "RFC 5321 §4.1.1.4: the message ends with a line holding only '.' (CRLF.CRLF)",
                            "send b'\\r\\n.\\r\\n' after the last line of the message"),
    "line-too-long": Rule("a message line is too long",
                          "RFC 5322 §2.1.1 / RFC 5321 §4.5.3.1.6: at most 998 characters per line",
                          "wrap long lines, or encode the part as quoted-printable or base64"),
    "dot-not-stuffed": Rule("a line starting with '.' was not doubled",
                            "RFC 5321 §4.5.2: a message line that starts with '.' gets one more '.' in front",
                            "before sending, add a '.' to every message line that starts with '.'"),
    "message-ended-early": Rule("a lone '.' in the text ended the message early",
                                "RFC 5321 §4.5.2: a line of just '.' ends DATA; the rest became commands",
                                "dot-stuff the message: double a '.' at the start of every line"),
    "header-syntax": Rule("a header line is malformed",
                          "RFC 5322 §2.2: each header is Name: value; an empty line separates headers "
                          "from the text",
                          "write Name: value per line, then an empty line, then the text"),
    "from-missing": Rule("no From header", "RFC 5322 §3.6: From and Date are required",
                         "add From: Your Name <you@example.org>"),
    "from-invalid": Rule("the From header has no valid address", "RFC 5322 §3.6.2: From holds a mailbox",
                         "write From: Your Name <you@example.org>"),
    "to-missing": Rule("no To or Cc header", "RFC 5322 §3.6.3: a message names its recipients in To (or Cc)",
                       "add To: Their Name <them@example.org>"),
    "to-invalid": Rule("a To/Cc header has no valid address", "RFC 5322 §3.4: address lists are mailboxes "
                       "separated by commas", "write To: Name <them@example.org>, other@example.org"),
    "subject-missing": Rule("no Subject header", "the course lab requires a Subject (RFC 5322 §3.6.5)",
                            "add Subject: a short summary"),
    "date-missing": Rule("no Date header", "RFC 5322 §3.6.1: Date is required",
                         "add Date: made with email.utils.format_datetime(datetime.now(tzlocal.get_localzone()))"),
    "date-invalid": Rule("the Date header is not an RFC 5322 date",
                         "RFC 5322 §3.3: [Day, ] DD Mon YYYY HH:MM:SS +ZZZZ, English names, numeric zone, "
                         "day of week matching the date",
                         "format it with email.utils.format_datetime on an aware datetime, "
                         "e.g. Tue, 24 Nov 2026 19:01:02 +0100"),
    "message-id-missing": Rule("no Message-ID header", "RFC 5322 §3.6.4: every message SHOULD have a Message-ID",
                               "add Message-ID: made with email.utils.make_msgid()"),
    "message-id-syntax": Rule("the Message-ID is not <left@right>", "RFC 5322 §3.6.4: msg-id = <id-left@id-right>",
                              "use email.utils.make_msgid(domain='example.org')"),
    "message-id-duplicate": Rule("the Message-ID was used before", "RFC 5322 §3.6.4: a Message-ID is unique "
                                 "for ever", "make a fresh one for every message (email.utils.make_msgid())"),
    "header-8bit": Rule("raw non-ASCII in a header",
                        "RFC 2047: non-ASCII header text is sent as encoded words (=?utf-8?b?...?=) "
                        "unless SMTPUTF8 is used (RFC 6532)",
                        "encode with email.header.Header(text, 'utf-8').encode(), or use SMTPUTF8"),
    "header-encoding-bad": Rule("an encoded word does not decode",
                                "RFC 2047 §2: =?charset?B|Q?text?= with valid base64 or Q text",
                                "build encoded words with email.header.Header, not by hand"),
    "mime-version-missing": Rule("MIME headers without MIME-Version", "RFC 2045 §4: a MIME message has "
                                 "MIME-Version: 1.0", "add MIME-Version: 1.0"),
    "charset-missing": Rule("non-ASCII text without a charset",
                            "RFC 2045 §5.2: without charset= the text is US-ASCII",
                            "add Content-Type: text/plain; charset=utf-8"),
    "mime-boundary": Rule("the multipart boundaries are wrong",
                          "RFC 2046 §5.1.1: boundary= is given, each part starts with --boundary, "
                          "the last ends with --boundary--",
                          "build the message with email.mime / EmailMessage, or check every delimiter line"),
    "cte-mismatch": Rule("the Content-Transfer-Encoding does not match the content",
                         "RFC 2045 §6: 7bit is ASCII only; base64 and quoted-printable must be valid",
                         "declare what you send: 8bit for raw UTF-8 (with BODY=8BITMIME), or encode "
                         "as quoted-printable/base64"),
    "body-8bit-undeclared": Rule("8-bit content without BODY=8BITMIME",
                                 "RFC 6152: 8-bit message text needs BODY=8BITMIME on MAIL FROM",
                                 "add BODY=8BITMIME to MAIL FROM, or encode the text as quoted-printable/base64"),
    # the end
    "no-quit": Rule("closed without QUIT", "RFC 5321 §4.1.1.10: a client ends the session with QUIT",
                    "send QUIT, read the 221 reply, then close the socket"),
}


@dataclass(frozen=True)
class Finding:
    rule: str      # a key of RULES
    evidence: str  # the exact line (bytes shown visibly) or what was seen
    detail: str = ""  # what exactly is wrong, when the rule alone does not say
    line: int = 0  # the number of the session line it is about (0: the session as a whole)

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    @property
    def broken(self) -> str:
        return RULES[self.rule].broken

    @property
    def fix(self) -> str:
        return RULES[self.rule].fix

    def as_dict(self) -> dict:
        return {"rule": self.rule, "title": self.title, "evidence": self.evidence, "detail": self.detail,
                "broken": self.broken, "fix": self.fix, "line": self.line}
