/* nwfilterd settings: built-in defaults, then the config file
 * (libvirtd.conf syntax: `key = "string"` or `key = 123`, # comments), then
 * command-line options, each overriding the one before. */
#pragma once

#include <glib.h>

#define NWF_DAEMON_DEFAULT_CONFIG_FILE "/etc/libvirt/nwfilterd.conf"

typedef struct {
    char *socket_dir;          /* virtnwfilterd-sock and -sock-ro live here */
    char *config_dir;          /* filter XML files */
    char *state_dir;           /* binding status files */
    char *backend;             /* "nftables" / "ebiptables"; NULL: best available */
    guint nft_counters;        /* 1: a counter on every nftables rule (nwfilter stats) */
    guint log_level;           /* 1 debug, 2 info, 3 warning, 4 error */
    guint keepalive_interval;
    guint keepalive_count;
    guint max_clients;
    guint max_client_requests;
} NwfDaemonConfig;

void nwf_daemon_config_init(NwfDaemonConfig *config);
void nwf_daemon_config_clear(NwfDaemonConfig *config);

/* Apply the settings of the file at PATH. A missing file is an error only
 * when MUST_EXIST. Unknown keys (e.g. libvirtd.conf's unix_sock_*) are
 * logged and ignored; bad syntax or values fail with file:line. */
gboolean nwf_daemon_config_load_file(NwfDaemonConfig *config, const char *path,
                                     gboolean must_exist, GError **error);

/* The same for text already in memory; NAME is used in messages. */
gboolean nwf_daemon_config_load_data(NwfDaemonConfig *config, const char *name,
                                     const char *text, GError **error);
