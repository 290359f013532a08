/* Subcommands of the nwfilter tool. Each lives in its own cmd_*.c file and
 * gets argv starting at the subcommand name. Exit codes: 0 success, 1 the
 * checked thing failed (invalid file, drop verdict), 2 usage or I/O error. */
#pragma once

int nwf_cmd_validate(int argc, char **argv);
int nwf_cmd_format(int argc, char **argv);
int nwf_cmd_compile(int argc, char **argv);
int nwf_cmd_apply(int argc, char **argv);
int nwf_cmd_remove(int argc, char **argv);
int nwf_cmd_trace(int argc, char **argv);
int nwf_cmd_fingerprint(int argc, char **argv);
int nwf_cmd_status(int argc, char **argv);
int nwf_cmd_stats(int argc, char **argv);

/* Read FILE ("-" = standard input) into a string; prints the error and
 * returns NULL on failure. Implemented in nwfilter.c. */
char *nwf_tool_read_input(const char *file, gsize *len);
