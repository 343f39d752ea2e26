/*
 * partner_commands.h — `renkeictl partner register|grant|revoke|list|webhook --tenant T …`: a
 * tenant's partner systems (AdminService.RegisterPartner, GrantPartner, RevokePartner,
 * ListPartners, SetPartnerWebhook; hub/exchange/partner_admin.c). `list` shows each webhook's
 * cursor, last delivery and, while it fails, the last error. Follows command.h's rules for output and exit status.
 */
#ifndef RK_CTL_PARTNER_COMMANDS_H
#define RK_CTL_PARTNER_COMMANDS_H

#include "ctl/command.h"

/** argv[0] is the subcommand. Returns the exit status. */
int rk_ctl_partner_command(const rk_ctl_t *ctl, int argc, char **argv);

#endif
