/*
 * pupil_commands.h — `renkeictl pupil issue|import`: pupil IDs issued by a city's tenant-admin
 * through the hub's admin API (POST /admin/v1/realms/{slug}/pupils).
 */
#ifndef RK_CTL_PUPIL_COMMANDS_H
#define RK_CTL_PUPIL_COMMANDS_H

#include "ctl/command.h"

/** The usage lines of the pupil commands, for renkeictl's overall usage. */
extern const char rk_ctl_pupil_usage[];

/** `pupil issue|import …` (argv[0] is the subcommand). Returns the exit status. */
int rk_ctl_pupil_command(const rk_ctl_t *ctl, int argc, char **argv);

#endif
