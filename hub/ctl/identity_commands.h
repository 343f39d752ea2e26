/*
 * identity_commands.h — renkeictl's commands for a realm's OpenID side: `client create|list`,
 * `user create|list` and `keys rotate`, over the hub's admin HTTP API
 * (/admin/v1/realms/{slug}/clients, /users, /keys:rotate; hub/identity/README.md).
 *
 * renkeictl's main() dispatches to them once it has taken --hub and --json out of the
 * arguments. Each follows command.h's rules for output and exit status.
 */
#ifndef RK_CTL_IDENTITY_COMMANDS_H
#define RK_CTL_IDENTITY_COMMANDS_H

#include "ctl/command.h"

/** The lines these commands add to renkeictl's usage (two spaces in, newline-terminated). */
extern const char rk_ctl_identity_usage[];

/**
 * `client VERB OPTIONS…`: argv[0] is the verb (create, list), the options follow. Returns the
 * exit status.
 */
int rk_ctl_client_command(const rk_ctl_t *ctl, int argc, char **argv);

/**
 * `user VERB OPTIONS…` (create, list). create reads the password from stdin
 * (--password-stdin; without echo when stdin is a terminal) and wipes every copy it made once
 * the request is sent. Returns the exit status.
 */
int rk_ctl_user_command(const rk_ctl_t *ctl, int argc, char **argv);

/** `keys VERB OPTIONS…` (rotate). Returns the exit status. */
int rk_ctl_keys_command(const rk_ctl_t *ctl, int argc, char **argv);

/** `registration-token OPTIONS…`: an initial access token for /t/T/register. */
int rk_ctl_registration_token_command(const rk_ctl_t *ctl, int argc, char **argv);

#endif
