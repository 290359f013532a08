#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "conf/nwfilter_attrs.h"
#include "conf/nwfilter_filterref.h"
#include "conf/nwfilter_value.h"
#include "conf/xml_safe.h"
#include "util/nwf_error.h"

#define NWF_FILTER_DOC_NAME "(nwfilter_definition)"
#define NWF_CHAIN_NAME_MAX 12
#define NWF_CHAIN_NAME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-"
#define NWF_PRIORITY_MIN (-1000)
#define NWF_PRIORITY_MAX 1000
#define NWF_RULE_PRIORITY_DEFAULT 500

/* Chain prefixes in the order libvirt checks them, with the priority a
 * chain gets when none is given. stp is missing from libvirt's default
 * table, so it falls back to the middle of the range: 0. */
static const struct {
    NwfChainKind kind;
    int default_priority;
} chain_prefixes[] = {
    { NWF_CHAIN_MAC, -800 }, { NWF_CHAIN_VLAN, -750 }, { NWF_CHAIN_STP, 0 },
    { NWF_CHAIN_ARP, -500 }, { NWF_CHAIN_RARP, -400 }, { NWF_CHAIN_IPV4, -700 },
    { NWF_CHAIN_IPV6, -600 },
};

static void
rule_free(NwfRuleDef *rule)
{
    if (!rule)
        return;
    for (int f = 0; f < NWF_FIELD_LAST; f++)
        nwf_value_clear(&rule->fields[f]);
    g_free(rule);
}

static void
entry_free(gpointer data)
{
    NwfEntry *entry = data;

    if (entry->kind == NWF_ENTRY_RULE) {
        rule_free(entry->rule);
    } else if (entry->ref) {
        nwf_filterref_clear(entry->ref);
        g_free(entry->ref);
    }
    g_free(entry);
}

void
nwf_filter_def_free(NwfFilterDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->chain);
    if (def->entries)
        g_ptr_array_unref(def->entries);
    g_free(def);
}

static NwfFilterDef *
filter_def_new(void)
{
    NwfFilterDef *def = g_new0(NwfFilterDef, 1);

    def->entries = g_ptr_array_new_with_free_func(entry_free);
    return def;
}

static gboolean
parse_action(const char *text, NwfAction *action)
{
    for (int a = 0; a < NWF_ACTION_LAST; a++) {
        if (strcmp(text, nwf_action_name((NwfAction)a)) == 0) {
            *action = (NwfAction)a;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
parse_direction(const char *text, NwfDirection *direction)
{
    static const NwfDirection all[] = { NWF_DIR_IN, NWF_DIR_OUT, NWF_DIR_INOUT };

    for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
        if (strcmp(text, nwf_direction_name(all[i])) == 0) {
            *direction = all[i];
            return TRUE;
        }
    }
    return FALSE;
}

/* libvirt checks the port/protocol rule of ip and ipv6 after every
 * protocol element, so a later element cannot supply the protocol. */
static gboolean
check_ports_need_protocol(const NwfRuleDef *rule, GError **error)
{
    static const NwfField ports[] = {
        NWF_FIELD_SRCPORTSTART, NWF_FIELD_DSTPORTSTART,
        NWF_FIELD_SRCPORTEND, NWF_FIELD_DSTPORTEND,
    };
    const NwfValue *proto = &rule->fields[NWF_FIELD_PROTOCOL];
    gboolean has_port = FALSE;

    if (rule->protocol != NWF_PROTO_IP && rule->protocol != NWF_PROTO_IPV6)
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(ports); i++)
        has_port |= rule->fields[ports[i]].present;
    if (!has_port)
        return TRUE;
    /* A variable protocol cannot be checked here and fails, as in libvirt. */
    if (proto->present && !proto->var &&
        (proto->u.num == 6 || proto->u.num == 17 || proto->u.num == 33 || proto->u.num == 132))
        return TRUE;
    nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                  _("%s rule with port specification requires protocol specification "
                    "with protocol to be either one of tcp(6), udp(17), dccp(33), or sctp(132)"),
                  rule->protocol == NWF_PROTO_IP ? "IP" : "IPv6");
    return FALSE;
}

/* DEFERRED collects the first refusal libvirt would not make (a variable
 * it takes but never resolves): libvirt goes on and may fail later in the
 * document with its own message, which should then be the one reported. */
static gboolean
parse_protocol_element(xmlNode *node, NwfRuleDef *rule, GError **deferred, GError **error)
{
    g_autofree char *match = nwf_xml_prop(node, "match");
    gboolean negated = match && strcmp(match, "no") == 0;
    g_autoptr(GError) last_error = NULL;
    const NwfAttrSpec *attrs;
    guint n = 0;

    attrs = nwf_protocol_attrs(rule->protocol, &n);
    /* Like libvirt, look at every attribute and report the last bad one. */
    for (guint i = 0; i < n; i++) {
        NwfField field = attrs[i].field;
        g_autofree char *text = nwf_xml_prop(node, nwf_field_name(field));
        NwfValue value = { 0 };

        if (!text)
            continue;
        if (!nwf_value_parse_attr(rule->protocol, field, text, &value, NULL)) {
            if (!nwf_value_parse_as_libvirt(rule->protocol, field, text, &value)) {
                g_clear_error(&last_error);
                nwf_error_set(&last_error, NWF_ERR_INTERNAL_ERROR, _("%s has illegal value %s"),
                              nwf_field_name(field), text);
                continue;
            }
            if (!*deferred)
                nwf_error_set(deferred, NWF_ERR_INTERNAL_ERROR, _("%s has illegal value %s"),
                              nwf_field_name(field), text);
        }
        value.negated = negated;
        nwf_value_clear(&rule->fields[field]);
        rule->fields[field] = value;
    }
    if (last_error) {
        g_propagate_error(error, g_steal_pointer(&last_error));
        return FALSE;
    }
    return check_ports_need_protocol(rule, error);
}

/* Masks and range ends carry their partner's negation; the ipset fix-up
 * gives a lone ipset the default 'src' flag and drops flags without a set. */
static void
rule_fixup(NwfRuleDef *rule)
{
    const NwfAttrSpec *attrs;
    guint n = 0;

    attrs = nwf_protocol_attrs(rule->protocol, &n);
    for (guint i = 0; i < n; i++) {
        if (attrs[i].partner != NWF_FIELD_LAST)
            rule->fields[attrs[i].field].negated = rule->fields[attrs[i].partner].negated;
    }
    if (!nwf_protocol_is_l3(rule->protocol))
        return;
    if (!rule->fields[NWF_FIELD_IPSET].present) {
        nwf_value_clear(&rule->fields[NWF_FIELD_IPSETFLAGS]);
    } else if (!rule->fields[NWF_FIELD_IPSETFLAGS].present) {
        NwfValue *flags = &rule->fields[NWF_FIELD_IPSETFLAGS];
        flags->present = TRUE;
        flags->type = NWF_TYPE_IPSET_FLAGS;
        flags->u.ipset_flags.bits = 1;
        flags->u.ipset_flags.count = 1;
    }
}

static NwfRuleDef *
parse_rule(xmlNode *node, GError **deferred, GError **error)
{
    g_autofree char *action = nwf_xml_prop(node, "action");
    g_autofree char *direction = nwf_xml_prop(node, "direction");
    g_autofree char *priority = nwf_xml_prop(node, "priority");
    g_autofree char *statematch = nwf_xml_prop(node, "statematch");
    NwfRuleDef *rule = g_new0(NwfRuleDef, 1);
    gboolean found = FALSE;
    int prio;

    rule->line = (int)xmlGetLineNo(node);
    rule->statematch = TRUE;
    rule->priority = NWF_RULE_PRIORITY_DEFAULT;
    if (!action) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s",
                      _("rule node requires action attribute"));
        goto fail;
    }
    if (!parse_action(action, &rule->action)) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, "%s",
                      _("unknown rule action attribute value"));
        goto fail;
    }
    if (!direction) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s",
                      _("rule node requires direction attribute"));
        goto fail;
    }
    if (!parse_direction(direction, &rule->direction)) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, "%s",
                      _("unknown rule direction attribute value"));
        goto fail;
    }
    /* An unparsable or out-of-range priority silently means the default. */
    if (priority && nwf_parse_int(priority, &prio) &&
        prio >= NWF_PRIORITY_MIN && prio <= NWF_PRIORITY_MAX)
        rule->priority = prio;
    if (statematch && (strcmp(statematch, "0") == 0 || g_ascii_strcasecmp(statematch, "false") == 0))
        rule->statematch = FALSE;

    /* The first protocol element fixes the protocol; later elements of the
     * same protocol merge in, other elements are ignored. */
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        NwfProtocol protocol;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        protocol = nwf_protocol_from_name((const char *)cur->name);
        if (protocol == NWF_PROTO_LAST || (found && protocol != rule->protocol))
            continue;
        found = TRUE;
        rule->protocol = protocol;
        if (!parse_protocol_element(cur, rule, deferred, error))
            goto fail;
    }
    rule_fixup(rule);
    return rule;

fail:
    rule_free(rule);
    return NULL;
}

static gboolean
parse_chain(NwfFilterDef *def, const char *chain, GError **error)
{
    gsize len = strlen(chain);

    if (len > NWF_CHAIN_NAME_MAX) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Name of chain is longer than %d characters"),
                      NWF_CHAIN_NAME_MAX);
        return FALSE;
    }
    if (strspn(chain, NWF_CHAIN_NAME_CHARS) != len) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, "%s",
                      _("Chain name contains invalid characters"));
        return FALSE;
    }
    if (strcmp(chain, "root") == 0) {
        def->chain_kind = NWF_CHAIN_ROOT;
        def->chain_priority = 0;
        return TRUE;
    }
    /* 'root' is no prefix: libvirt fails 'rootx' without a message, we
     * give the invalid-chain message instead. */
    if (!g_str_has_prefix(chain, "root")) {
        for (gsize i = 0; i < G_N_ELEMENTS(chain_prefixes); i++) {
            if (g_str_has_prefix(chain, nwf_chain_kind_prefix(chain_prefixes[i].kind))) {
                def->chain_kind = chain_prefixes[i].kind;
                def->chain_priority = chain_prefixes[i].default_priority;
                return TRUE;
            }
        }
    }
    nwf_error_set(error, NWF_ERR_INVALID_ARG,
                  _("Invalid chain name '%s'. Please use a chain name called 'root' or any of "
                    "the following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6"), chain);
    return FALSE;
}

/* libvirt accepts these and fails only when saving the config file; refuse
 * them up front, but after every check libvirt makes, so that a document
 * with other errors gets libvirt's message. */
static gboolean
check_filter_name_chars(const char *name, GError **error)
{
    if (strchr(name, '/')) {
        nwf_error_set(error, NWF_ERR_XML_ERROR,
                      _("filter name '%s' must not contain '/'"), name);
        return FALSE;
    }
    if (name[0] == '.') {
        nwf_error_set(error, NWF_ERR_XML_ERROR,
                      _("filter name '%s' must not start with '.'"), name);
        return FALSE;
    }
    return TRUE;
}

static char *
first_child_text(xmlNode *node, const char *name)
{
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (nwf_xml_is_element(cur, name)) {
            xmlChar *raw = xmlNodeGetContent(cur);
            char *text = g_strdup(raw ? (const char *)raw : "");
            xmlFree(raw);
            return text;
        }
    }
    return NULL;
}

static NwfFilterDef *
parse_filter(xmlNode *root, GError **error)
{
    g_autoptr(NwfFilterDef) def = filter_def_new();
    g_autofree char *priority = nwf_xml_prop(root, "priority");
    g_autofree char *chain = nwf_xml_prop(root, "chain");
    g_autofree char *uuid = NULL;
    g_autoptr(GError) deferred = NULL;
    int chain_priority = 0;

    def->name = nwf_xml_prop(root, "name");
    if (!def->name || !*def->name) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s", _("filter has no name"));
        return NULL;
    }
    if (priority && *priority) {
        if (!nwf_parse_int(priority, &chain_priority)) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Could not parse chain priority '%s'"),
                          priority);
            return NULL;
        }
        if (chain_priority < NWF_PRIORITY_MIN || chain_priority > NWF_PRIORITY_MAX) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG,
                          _("Priority '%d' is outside valid range of [%d,%d]"),
                          chain_priority, NWF_PRIORITY_MIN, NWF_PRIORITY_MAX);
            return NULL;
        }
    }
    if (chain && *chain) {
        if (!parse_chain(def, chain, error))
            return NULL;
        def->chain = g_steal_pointer(&chain);
        /* the priority only counts together with an explicit chain */
        if (priority && *priority)
            def->chain_priority = chain_priority;
    } else {
        def->chain = g_strdup("root");
        def->chain_kind = NWF_CHAIN_ROOT;
        def->chain_priority = 0;
    }

    uuid = first_child_text(root, "uuid");
    if (uuid && *uuid) {
        if (!nwf_uuid_parse(uuid, def->uuid)) {
            nwf_error_set(error, NWF_ERR_XML_ERROR, "%s", _("malformed uuid element"));
            return NULL;
        }
    } else {
        nwf_uuid_generate(def->uuid);
    }

    for (xmlNode *cur = root->children; cur; cur = cur->next) {
        NwfEntry *entry;

        if (nwf_xml_is_element(cur, "rule")) {
            NwfRuleDef *rule = parse_rule(cur, &deferred, error);
            if (!rule)
                return NULL;
            entry = g_new0(NwfEntry, 1);
            entry->kind = NWF_ENTRY_RULE;
            entry->rule = rule;
            g_ptr_array_add(def->entries, entry);
        } else if (nwf_xml_is_element(cur, "filterref")) {
            entry = g_new0(NwfEntry, 1);
            entry->kind = NWF_ENTRY_FILTERREF;
            entry->ref = g_new0(NwfFilterRefDef, 1);
            g_ptr_array_add(def->entries, entry);
            if (!nwf_filterref_parse(cur, entry->ref, error))
                return NULL;
        }
    }
    if (deferred) {
        g_propagate_error(error, g_steal_pointer(&deferred));
        return NULL;
    }
    if (!check_filter_name_chars(def->name, error))
        return NULL;
    return g_steal_pointer(&def);
}

static NwfFilterDef *
parse_doc(xmlDoc *doc, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(doc);

    if (strcmp((const char *)root->name, "filter") != 0) {
        nwf_error_set(error, NWF_ERR_XML_ERROR, _("expecting root element of 'filter', not '%s'"),
                      (const char *)root->name);
        return NULL;
    }
    return parse_filter(root, error);
}

NwfFilterDef *
nwf_filter_def_parse_string(const char *xml, gssize len, GError **error)
{
    g_autoptr(xmlDoc) doc = nwf_xml_safe_parse(xml, len, NWF_FILTER_DOC_NAME, error);

    return doc ? parse_doc(doc, error) : NULL;
}

NwfFilterDef *
nwf_filter_def_parse_file(const char *path, GError **error)
{
    g_autoptr(xmlDoc) doc = nwf_xml_safe_parse_file(path, NWF_FILTER_DOC_NAME, error);

    return doc ? parse_doc(doc, error) : NULL;
}

NwfFilterDef *
nwf_filter_def_copy(const NwfFilterDef *def)
{
    NwfFilterDef *copy = filter_def_new();

    copy->name = g_strdup(def->name);
    memcpy(copy->uuid, def->uuid, sizeof(copy->uuid));
    copy->chain = g_strdup(def->chain);
    copy->chain_kind = def->chain_kind;
    copy->chain_priority = def->chain_priority;
    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *src = g_ptr_array_index(def->entries, i);
        NwfEntry *dst = g_new0(NwfEntry, 1);

        dst->kind = src->kind;
        if (src->kind == NWF_ENTRY_RULE) {
            dst->rule = g_new0(NwfRuleDef, 1);
            *dst->rule = *src->rule;
            for (int f = 0; f < NWF_FIELD_LAST; f++)
                nwf_value_copy(&dst->rule->fields[f], &src->rule->fields[f]);
        } else {
            dst->ref = g_new0(NwfFilterRefDef, 1);
            dst->ref->filter = g_strdup(src->ref->filter);
            dst->ref->params = nwf_params_copy(src->ref->params);
        }
        g_ptr_array_add(copy->entries, dst);
    }
    return copy;
}

GPtrArray *
nwf_filter_def_referenced_names(const NwfFilterDef *def)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *entry = g_ptr_array_index(def->entries, i);
        if (entry->kind == NWF_ENTRY_FILTERREF)
            g_ptr_array_add(names, g_strdup(entry->ref->filter));
    }
    return names;
}
