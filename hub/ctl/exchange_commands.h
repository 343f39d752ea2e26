/*
 * exchange_commands.h — renkeictl's commands for the exchange between cities:
 * `receipt verify FILE` (offline, against the issuing realm's JWKS) and `log verify --tenant T`
 * (ExchangeService.VerifyLogChain over Connect).
 *
 * renkeictl's main() dispatches to them once it has taken --hub and --json out of the
 * arguments. Each follows command.h's rules for output and exit status.
 */
#ifndef RK_CTL_EXCHANGE_COMMANDS_H
#define RK_CTL_EXCHANGE_COMMANDS_H

#include "ctl/command.h"

/** The lines these commands add to renkeictl's usage (two spaces in, newline-terminated). */
extern const char rk_ctl_exchange_usage[];

/**
 * `receipt verify FILE [--jwks FILE|URL]`: FILE holds a compact JWS, or the JSON of a Receipt
 * or of GetReceipt's answer. The key comes from --jwks, else from the hub's JWKS of the
 * providing realm ({hub}/t/{provider}/jwks). Prints the verified transaction. Returns the exit
 * status (1 when it does not verify).
 */
int rk_ctl_receipt_command(const rk_ctl_t *ctl, int argc, char **argv);

/** `log verify --tenant T [--from N] [--to N]`. Returns the exit status (1 when broken). */
int rk_ctl_log_command(const rk_ctl_t *ctl, int argc, char **argv);

#endif
