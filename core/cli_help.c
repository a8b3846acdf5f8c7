/*
 * cli_help: the one table of kith's commands, their usage and a one-line description. Both
 * `kith --help` (every command) and `kith COMMAND --help` (one) print from it, so the two
 * never disagree; doc/kith.1 and completion/kith.bash follow it by hand.
 */
#include "core/cli.h"

#include <ctype.h>
#include <string.h>

struct cli_help_entry {
    const char *name;
    const char *usage; /* after "kith " */
    const char *about;
};

#define CLI_HELP_COLUMN 30

static const struct cli_help_entry cli_help_table[] = {
    { "tui", "(none) | tui", "open the client" },
    { "init", "init --name NAME [--listen ENDPOINT]",
      "create a profile (ENDPOINT like tcp://127.0.0.1:7741; a port of * picks a free one)" },
    { "id", "id [--json]", "your name, fingerprint and endpoint" },
    { "invite", "invite [--circle NAME] [--ttl DURATION]",
      "print a one-time invite code (with --circle it also adds its holder to the circle)" },
    { "accept", "accept CODE [--as NAME]", "add the person an invite code names" },
    { "contacts", "contacts [--json]", "your contacts and their state" },
    { "send", "send TARGET TEXT... [--each] [--wait SECONDS] [--heavy] [--urgent]",
      "queue a message for a contact (or #circle) and print its id" },
    { "log", "log TARGET [--limit N] [--json]", "a conversation, with each message's state" },
    { "boundary",
      "boundary show CONTACT [--json|--theirs] | set CONTACT RULE... | clear CONTACT [RULE...]",
      "the boundaries you keep with a contact (quiet=22:00-08:00, rate=5/h, mute, block ...)" },
    { "consent", "consent CONTACT MSG_ID yes|no|later=DURATION",
      "answer a heavy message's question" },
    { "show", "show CONTACT MSG_ID", "open a folded message" },
    { "verify", "verify CONTACT [--yes|--no]", "compare and mark safety numbers" },
    { "rename", "rename CONTACT NEW_NAME", "call a contact something else" },
    { "status", "status [--json]", "whether kith is running, and what waits" },
    { "repair",
      "repair act CONTACT EVENT [FIELD=VALUE...] | status CONTACT [--json] | "
      "keep CONTACT keep|agreement|delete",
      "a repair conversation with a contact, one step at a time" },
    { "practice",
      "practice [--partner receptive|defensive|withdrawn] [--seed N] [--script] [--save]",
      "rehearse a repair with a scripted partner; nothing is sent" },
    { "circle",
      "circle create|members|leave NAME [--json] | remove|admin NAME CONTACT | "
      "checkin NAME [--mood M] [--with LIST] [--note TEXT] | support NAME [--kind K] [--note T] | "
      "reply NAME MSG_ID here|later|care|cant",
      "support circles: members, removal, check-ins and 'I could use support'" },
    { "circles", "circles [--json]", "your circles and their state" },
    { "retention", "retention CONTACT [DURATION|off|accept|decline] [--json]",
      "disappearing messages with a contact: show, propose (30s, 1h, 7d, off) or answer" },
    { "config", "config get KEY | config set KEY VALUE",
      "settings: listen, advertise, socks5, notify, crisis_line, my_people, country" },
    { "passwd", "passwd [--new-passphrase-file FILE]",
      "change your passphrase (kith must not be running)" },
    { "backup", "backup FILE", "save a sealed copy of this profile in a new file" },
    { "restore", "restore FILE [--home DIR]",
      "bring a backup back into a new, empty profile directory" },
    { "wipe", "wipe [--yes]", "overwrite and remove this profile; it can't be undone" },
    { "run", "run", "run headless until interrupted" },
    { "demo", "demo", "try kith with two local companions" },
};

#define CLI_HELP_N (sizeof cli_help_table / sizeof cli_help_table[0])

static void
cli_help_one_line(struct cli_buf *out, const struct cli_help_entry *h)
{
    size_t len = strlen(h->usage);

    if (len + 3 <= CLI_HELP_COLUMN) {
        cli_printf(out, "  %-*s %s\n", CLI_HELP_COLUMN - 3, h->usage, h->about);
    } else {
        cli_printf(out, "  %s\n  %*s %s\n", h->usage, CLI_HELP_COLUMN - 3, "", h->about);
    }
}

int
cli_help(const char *command, struct cli_buf *out)
{
    if (command == NULL) {
        for (size_t i = 0; i < CLI_HELP_N; i++) {
            cli_help_one_line(out, &cli_help_table[i]);
        }
        return KITH_OK;
    }
    for (size_t i = 0; i < CLI_HELP_N; i++) {
        if (strcmp(cli_help_table[i].name, command) == 0) {
            const char *about = cli_help_table[i].about;
            cli_printf(out, "usage: kith [--home DIR] [--passphrase-file FILE] %s\n\n%c%s.\n",
                       cli_help_table[i].usage, toupper((unsigned char)about[0]), about + 1);
            return KITH_OK;
        }
    }
    return KITH_ENOTFOUND;
}
