#include "config.h"

#include <string.h>

#include "fake_driver.h"
#include "util/nwf_error.h"

typedef struct {
    char *name;
    guint8 uuid[16];
    char *xml;
} FakeFilter;

typedef struct {
    char *portdev;
    char *filter;
    char *xml;
} FakeBinding;

struct _FakeDriver {
    GPtrArray *filters;
    GPtrArray *bindings;
    guint define_delay_ms;
    guint calls;
};

static void
fake_filter_free(gpointer p)
{
    FakeFilter *f = p;

    g_free(f->name);
    g_free(f->xml);
    g_free(f);
}

static void
fake_binding_free(gpointer p)
{
    FakeBinding *b = p;

    g_free(b->portdev);
    g_free(b->filter);
    g_free(b->xml);
    g_free(b);
}

FakeDriver *
fake_driver_new(void)
{
    FakeDriver *fake = g_new0(FakeDriver, 1);

    fake->filters = g_ptr_array_new_with_free_func(fake_filter_free);
    fake->bindings = g_ptr_array_new_with_free_func(fake_binding_free);
    return fake;
}

void
fake_driver_free(FakeDriver *fake)
{
    g_ptr_array_unref(fake->filters);
    g_ptr_array_unref(fake->bindings);
    g_free(fake);
}

void
fake_driver_set_define_delay(FakeDriver *fake, guint msec)
{
    fake->define_delay_ms = msec;
}

guint
fake_driver_calls(FakeDriver *fake)
{
    return g_atomic_int_get(&fake->calls);
}

/* The value of attribute ATTR of the first element in XML (test inputs are
 * written with single quotes). */
static char *
xml_attr(const char *xml, const char *attr)
{
    g_autofree char *pat = g_strdup_printf(" %s='", attr);
    const char *at = strstr(xml, pat);
    const char *end;

    if (!at)
        return NULL;
    at += strlen(pat);
    end = strchr(at, '\'');
    return end ? g_strndup(at, end - at) : NULL;
}

static FakeFilter *
find_filter(FakeDriver *fake, const char *name, const guint8 *uuid)
{
    for (guint i = 0; i < fake->filters->len; i++) {
        FakeFilter *f = fake->filters->pdata[i];

        if ((name && strcmp(f->name, name) == 0) || (uuid && memcmp(f->uuid, uuid, 16) == 0))
            return f;
    }
    return NULL;
}

static FakeBinding *
find_binding(FakeDriver *fake, const char *portdev)
{
    for (guint i = 0; i < fake->bindings->len; i++) {
        FakeBinding *b = fake->bindings->pdata[i];

        if (strcmp(b->portdev, portdev) == 0)
            return b;
    }
    return NULL;
}

static void
uuid_missing(GError **error, const guint8 uuid[16])
{
    char s[37];

    g_snprintf(s, sizeof(s), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
               uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
    nwf_error_set(error, NWF_ERR_NO_NWFILTER, "no nwfilter with matching uuid '%s'", s);
}

static void
filter_out(const FakeFilter *f, NwfRpcNwfilter *out)
{
    out->name = g_strdup(f->name);
    memcpy(out->uuid, f->uuid, 16);
}

static guint
fake_filter_count(gpointer drv)
{
    FakeDriver *fake = drv;

    g_atomic_int_inc(&fake->calls);
    return fake->filters->len;
}

static GPtrArray *
fake_filter_list(gpointer drv)
{
    FakeDriver *fake = drv;
    GPtrArray *out = g_ptr_array_new_with_free_func(nwf_rpc_nwfilter_free);

    g_atomic_int_inc(&fake->calls);
    for (guint i = 0; i < fake->filters->len; i++) {
        NwfRpcNwfilter *f = g_new0(NwfRpcNwfilter, 1);

        filter_out(fake->filters->pdata[i], f);
        g_ptr_array_add(out, f);
    }
    return out;
}

static gboolean
fake_lookup_by_name(gpointer drv, const char *name, NwfRpcNwfilter *out, GError **error)
{
    FakeDriver *fake = drv;
    FakeFilter *f = find_filter(fake, name, NULL);

    g_atomic_int_inc(&fake->calls);
    if (!f) {
        nwf_error_set(error, NWF_ERR_NO_NWFILTER, "no nwfilter with matching name '%s'", name);
        return FALSE;
    }
    filter_out(f, out);
    return TRUE;
}

static gboolean
fake_lookup_by_uuid(gpointer drv, const guint8 uuid[16], NwfRpcNwfilter *out, GError **error)
{
    FakeDriver *fake = drv;
    FakeFilter *f = find_filter(fake, NULL, uuid);

    g_atomic_int_inc(&fake->calls);
    if (!f) {
        uuid_missing(error, uuid);
        return FALSE;
    }
    filter_out(f, out);
    return TRUE;
}

static gboolean
fake_define(gpointer drv, const char *xml, gboolean validate, NwfRpcNwfilter *out, GError **error)
{
    FakeDriver *fake = drv;
    g_autofree char *name = xml_attr(xml, "name");
    FakeFilter *f;

    g_atomic_int_inc(&fake->calls);
    if (fake->define_delay_ms)
        g_usleep(fake->define_delay_ms * 1000);
    if (!g_str_has_prefix(xml, "<filter")) {
        const char *root = xml[0] ? xml + 1 : xml;

        nwf_error_set(error, NWF_ERR_XML_ERROR, "expecting root element of 'filter', not '%.*s'",
                      (int)strcspn(root, " >"), root);
        return FALSE;
    }
    if (!name) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "filter has no name");
        return FALSE;
    }
    f = find_filter(fake, name, NULL);
    if (!f) {
        f = g_new0(FakeFilter, 1);
        f->name = g_strdup(name);
        for (int i = 0; i < 16; i++)
            f->uuid[i] = g_random_int_range(0, 256);
        g_ptr_array_add(fake->filters, f);
    }
    g_free(f->xml);
    f->xml = g_strdup(xml);
    filter_out(f, out);
    return TRUE;
}

static gboolean
fake_undefine(gpointer drv, const guint8 uuid[16], GError **error)
{
    FakeDriver *fake = drv;
    FakeFilter *f = find_filter(fake, NULL, uuid);

    g_atomic_int_inc(&fake->calls);
    if (!f) {
        uuid_missing(error, uuid);
        return FALSE;
    }
    for (guint i = 0; i < fake->bindings->len; i++) {
        if (strcmp(((FakeBinding *)fake->bindings->pdata[i])->filter, f->name) == 0) {
            nwf_error_set(error, NWF_ERR_OPERATION_INVALID, "nwfilter is in use");
            return FALSE;
        }
    }
    g_ptr_array_remove(fake->filters, f);
    return TRUE;
}

static char *
fake_filter_get_xml(gpointer drv, const guint8 uuid[16], GError **error)
{
    FakeDriver *fake = drv;
    FakeFilter *f = find_filter(fake, NULL, uuid);

    g_atomic_int_inc(&fake->calls);
    if (!f) {
        uuid_missing(error, uuid);
        return NULL;
    }
    return g_strdup(f->xml);
}

static GPtrArray *
fake_binding_list(gpointer drv)
{
    FakeDriver *fake = drv;
    GPtrArray *out = g_ptr_array_new_with_free_func(nwf_rpc_binding_free);

    g_atomic_int_inc(&fake->calls);
    for (guint i = 0; i < fake->bindings->len; i++) {
        FakeBinding *b = fake->bindings->pdata[i];
        NwfRpcBinding *r = g_new0(NwfRpcBinding, 1);

        r->portdev = g_strdup(b->portdev);
        r->filtername = g_strdup(b->filter);
        g_ptr_array_add(out, r);
    }
    return out;
}

static gboolean
binding_missing(GError **error, const char *portdev)
{
    nwf_error_set(error, NWF_ERR_NO_NWFILTER_BINDING, "no nwfilter binding for port dev '%s'",
                  portdev);
    return FALSE;
}

static gboolean
fake_binding_lookup(gpointer drv, const char *portdev, NwfRpcBinding *out, GError **error)
{
    FakeDriver *fake = drv;
    FakeBinding *b = find_binding(fake, portdev);

    g_atomic_int_inc(&fake->calls);
    if (!b)
        return binding_missing(error, portdev);
    out->portdev = g_strdup(b->portdev);
    out->filtername = g_strdup(b->filter);
    return TRUE;
}

static gboolean
fake_binding_create(gpointer drv, const char *xml, gboolean validate, NwfRpcBinding *out,
                    GError **error)
{
    FakeDriver *fake = drv;
    g_autofree char *portdev = NULL;
    g_autofree char *filter = NULL;
    FakeBinding *b;
    const char *at;

    g_atomic_int_inc(&fake->calls);
    at = strstr(xml, "<portdev");
    portdev = at ? xml_attr(at, "name") : NULL;
    at = strstr(xml, "<filterref");
    filter = at ? xml_attr(at, "filter") : NULL;
    if (!portdev || !filter) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "filter binding has no port dev or filter");
        return FALSE;
    }
    if (find_binding(fake, portdev)) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED, "binding '%s' already exists", portdev);
        return FALSE;
    }
    if (!find_filter(fake, filter, NULL)) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "referenced filter '%s' is missing", filter);
        return FALSE;
    }
    b = g_new0(FakeBinding, 1);
    b->portdev = g_strdup(portdev);
    b->filter = g_strdup(filter);
    b->xml = g_strdup(xml);
    g_ptr_array_add(fake->bindings, b);
    out->portdev = g_steal_pointer(&portdev);
    out->filtername = g_steal_pointer(&filter);
    return TRUE;
}

static gboolean
fake_binding_delete(gpointer drv, const char *portdev, GError **error)
{
    FakeDriver *fake = drv;
    FakeBinding *b = find_binding(fake, portdev);

    g_atomic_int_inc(&fake->calls);
    if (!b)
        return binding_missing(error, portdev);
    g_ptr_array_remove(fake->bindings, b);
    return TRUE;
}

static char *
fake_binding_get_xml(gpointer drv, const char *portdev, GError **error)
{
    FakeDriver *fake = drv;
    FakeBinding *b = find_binding(fake, portdev);

    g_atomic_int_inc(&fake->calls);
    if (!b) {
        binding_missing(error, portdev);
        return NULL;
    }
    return g_strdup(b->xml);
}

const NwfRpcDriverOps fake_driver_ops = {
    .filter_count = fake_filter_count,
    .filter_list = fake_filter_list,
    .filter_lookup_by_name = fake_lookup_by_name,
    .filter_lookup_by_uuid = fake_lookup_by_uuid,
    .filter_define = fake_define,
    .filter_undefine = fake_undefine,
    .filter_get_xml = fake_filter_get_xml,
    .binding_list = fake_binding_list,
    .binding_lookup = fake_binding_lookup,
    .binding_create = fake_binding_create,
    .binding_delete = fake_binding_delete,
    .binding_get_xml = fake_binding_get_xml,
};
