#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>

#include "daemon/nwfilterd_config.h"
#include "util/nwf_error.h"

void
nwf_daemon_config_init(NwfDaemonConfig *config)
{
    memset(config, 0, sizeof(*config));
    config->socket_dir = g_strdup("/run/libvirt");
    config->config_dir = g_strdup("/etc/libvirt/nwfilter");
    config->state_dir = g_strdup("/run/libvirt/nwfilter-binding");
    config->nft_counters = 0;
    config->log_level = 3;
    config->keepalive_interval = 5;
    config->keepalive_count = 5;
    config->max_clients = 20000;
    config->max_client_requests = 5;
}

void
nwf_daemon_config_clear(NwfDaemonConfig *config)
{
    g_clear_pointer(&config->socket_dir, g_free);
    g_clear_pointer(&config->config_dir, g_free);
    g_clear_pointer(&config->state_dir, g_free);
    g_clear_pointer(&config->backend, g_free);
}

typedef enum {
    KEY_STRING,
    KEY_UINT,
} KeyKind;

typedef struct {
    const char *key;
    KeyKind kind;
    gsize offset;
    guint min, max;            /* KEY_UINT bounds */
} KeyInfo;

static const KeyInfo keys[] = {
    { "firewall_backend", KEY_STRING, G_STRUCT_OFFSET(NwfDaemonConfig, backend), 0, 0 },
    { "nft_counters", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, nft_counters), 0, 1 },
    { "config_dir", KEY_STRING, G_STRUCT_OFFSET(NwfDaemonConfig, config_dir), 0, 0 },
    { "state_dir", KEY_STRING, G_STRUCT_OFFSET(NwfDaemonConfig, state_dir), 0, 0 },
    { "socket_dir", KEY_STRING, G_STRUCT_OFFSET(NwfDaemonConfig, socket_dir), 0, 0 },
    { "log_level", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, log_level), 1, 4 },
    { "keepalive_interval", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, keepalive_interval), 0, 3600 },
    { "keepalive_count", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, keepalive_count), 0, 100 },
    { "max_clients", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, max_clients), 0, 1000000 },
    { "max_client_requests", KEY_UINT, G_STRUCT_OFFSET(NwfDaemonConfig, max_client_requests), 1, 1000 },
};

/* Parse one value: a quoted string (either quote) or a decimal number. */
static gboolean
parse_value(const char *text, char **str, guint64 *num, gboolean *is_str)
{
    gsize len = strlen(text);
    char *end = NULL;

    if (len >= 2 && (text[0] == '"' || text[0] == '\'') && text[len - 1] == text[0]) {
        if (memchr(text + 1, text[0], len - 2))
            return FALSE;
        *str = g_strndup(text + 1, len - 2);
        *is_str = TRUE;
        return TRUE;
    }
    if (!g_ascii_isdigit(text[0]))
        return FALSE;
    errno = 0;
    *num = g_ascii_strtoull(text, &end, 10);
    *is_str = FALSE;
    return errno == 0 && *end == '\0';
}

/* The value part of a line, with a trailing comment removed (a '#'
 * inside quotes is part of the string). */
static char *
strip_comment(const char *value)
{
    char quote = 0;
    const char *p;

    for (p = value; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '#') {
            break;
        }
    }
    return g_strstrip(g_strndup(value, p - value));
}

static gboolean
apply_line(NwfDaemonConfig *config, const char *name, guint lineno, const char *line,
           GError **error)
{
    const char *eq = strchr(line, '=');
    g_autofree char *key = NULL;
    g_autofree char *value = NULL;
    g_autofree char *str = NULL;
    guint64 num = 0;
    gboolean is_str = FALSE;

    if (!eq) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("%s:%u: expected 'key = value'"), name, lineno);
        return FALSE;
    }
    key = g_strstrip(g_strndup(line, eq - line));
    value = strip_comment(eq + 1);
    if (!parse_value(value, &str, &num, &is_str)) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("%s:%u: value of '%s' must be a quoted string or a number"),
                      name, lineno, key);
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        const KeyInfo *k = &keys[i];
        gpointer field = G_STRUCT_MEMBER_P(config, k->offset);

        if (strcmp(k->key, key) != 0)
            continue;
        if (k->kind == KEY_STRING) {
            if (!is_str || !str[0]) {
                nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                              _("%s:%u: '%s' must be a non-empty quoted string"), name, lineno, key);
                return FALSE;
            }
            g_free(*(char **)field);
            *(char **)field = g_steal_pointer(&str);
            return TRUE;
        }
        if (is_str || num < k->min || num > k->max) {
            nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                          _("%s:%u: '%s' must be a number from %u to %u"), name, lineno, key,
                          k->min, k->max);
            return FALSE;
        }
        *(guint *)field = (guint)num;
        return TRUE;
    }
    /* A warning: it may be a typo of a setting that matters. */
    g_warning("%s:%u: ignoring unknown setting '%s'", name, lineno, key);
    return TRUE;
}

gboolean
nwf_daemon_config_load_data(NwfDaemonConfig *config, const char *name, const char *text,
                            GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        const char *line = g_strstrip(lines[i]);

        if (!line[0] || line[0] == '#')
            continue;
        if (!apply_line(config, name, i + 1, line, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
nwf_daemon_config_load_file(NwfDaemonConfig *config, const char *path, gboolean must_exist,
                            GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) read_error = NULL;

    if (!g_file_get_contents(path, &text, NULL, &read_error)) {
        if (!must_exist && g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, _("cannot read config file: %s"),
                      read_error->message);
        return FALSE;
    }
    return nwf_daemon_config_load_data(config, path, text, error);
}
