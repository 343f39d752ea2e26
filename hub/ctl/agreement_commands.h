/*
 * agreement_commands.h — `renkeictl agreement propose|approve|reject|end|list|show`:
 * agreements between tenants as governed objects, over AdminService (Connect JSON; see
 * hub/tenancy/agreement_admin.h). The terms are written as in tenants/<slug>.json
 * (tenants/README.md), e.g. --terms '{"partner_area": {"fee": "resident_rate"}}'.
 *
 * renkeictl's main() dispatches to it once it has taken --hub and --json out of the arguments.
 * It follows command.h's rules for output and exit status. The bearer token is
 * RENKEI_ADMIN_TOKEN: the bootstrap admin token, or a staff member's access token.
 */
#ifndef RK_CTL_AGREEMENT_COMMANDS_H
#define RK_CTL_AGREEMENT_COMMANDS_H

#include "ctl/command.h"

/** The lines these commands add to renkeictl's usage (two spaces in, newline-terminated). */
extern const char rk_ctl_agreement_usage[];

/** `agreement VERB OPTIONS…`: argv[0] is the verb. Returns the exit status. */
int rk_ctl_agreement_command(const rk_ctl_t *ctl, int argc, char **argv);

#endif
