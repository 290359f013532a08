/* Hostile documents: each must be refused with an error (never a crash,
 * never a read of a local file), by both the filter and the binding parser. */
#include "config.h"

#include <string.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "util/nwf_error.h"

typedef struct {
    const char *name;
    char *(*make)(void);
    NwfErrorCode code;          /* expected code */
} HostileCase;

static char *
billion_laughs(void)
{
    GString *s = g_string_new("<?xml version='1.0'?>\n<!DOCTYPE filter [\n<!ENTITY l0 'lol'>\n");

    for (int i = 1; i < 10; i++)
        g_string_append_printf(s, "<!ENTITY l%d '&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;'>\n",
                               i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    g_string_append(s, "]>\n<filter name='&l9;'><filterbinding/></filter>\n");
    return g_string_free(s, FALSE);
}

static char *
xxe_file(void)
{
    return g_strdup("<?xml version='1.0'?>\n"
                    "<!DOCTYPE filter [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                    "<filter name='&x;'><rule action='drop' direction='in'>"
                    "<tcp comment='&x;'/></rule></filter>\n");
}

static char *
xxe_parameter_entity(void)
{
    return g_strdup("<!DOCTYPE filter [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]>\n"
                    "<filter name='a'/>\n");
}

static char *
external_dtd(void)
{
    return g_strdup("<!DOCTYPE filter SYSTEM 'http://127.0.0.1:1/x.dtd'>\n<filter name='a'/>\n");
}

static char *
two_mib(void)
{
    GString *s = g_string_new("<filter name='a'>");

    while (s->len < 2 * 1024 * 1024)
        g_string_append(s, "<rule action='drop' direction='in'/>\n");
    g_string_append(s, "</filter>");
    return g_string_free(s, FALSE);
}

static char *
deep_nesting(void)
{
    GString *s = g_string_new("<filter name='a'>");

    for (int i = 0; i < 10000; i++)
        g_string_append(s, "<x>");
    for (int i = 0; i < 10000; i++)
        g_string_append(s, "</x>");
    g_string_append(s, "</filter>");
    return g_string_free(s, FALSE);
}

/* 70 levels: inside libxml2's own limit, beyond ours */
static char *
moderate_nesting(void)
{
    GString *s = g_string_new("<filter name='a'>");

    for (int i = 0; i < 70; i++)
        g_string_append(s, "<x>");
    for (int i = 0; i < 70; i++)
        g_string_append(s, "</x>");
    g_string_append(s, "</filter>");
    return g_string_free(s, FALSE);
}

static char *
huge_attribute(void)
{
    g_autofree char *value = g_strnfill(1000 * 1000, 'x');

    return g_strdup_printf("<filter name='a'><rule action='drop' direction='in'>"
                           "<tcp comment='%s'/></rule></filter>", value);
}

static char *
huge_text(void)
{
    g_autofree char *value = g_strnfill(1000 * 1000, 'x');

    return g_strdup_printf("<filter name='a'><uuid>%s</uuid></filter>", value);
}

static char *
invalid_utf8(void)
{
    return g_strdup("<filter name='a\xff\xfe'/>");
}

static char *
overlong_utf8(void)
{
    return g_strdup("<filter name='\xc0\xaf'/>");
}

static char *
latin1_declared(void)
{
    return g_strdup("<?xml version='1.0' encoding='ISO-8859-1'?><filter name='caf\xe9'/>");
}

static char *
bad_char_ref(void)
{
    return g_strdup("<filter name='a&#0;'/>");
}

static char *
undefined_entity(void)
{
    return g_strdup("<filter name='&undefined;'/>");
}

static char *
not_well_formed(void)
{
    return g_strdup("<filter name='a'><rule action='drop' direction='in'></filter>");
}

static char *
empty_document(void)
{
    return g_strdup("");
}

static char *
only_comment(void)
{
    return g_strdup("<!-- nothing -->");
}

static const HostileCase cases[] = {
    { "billion-laughs", billion_laughs, NWF_ERR_XML_ERROR },
    { "xxe-file", xxe_file, NWF_ERR_XML_ERROR },
    { "xxe-parameter-entity", xxe_parameter_entity, NWF_ERR_XML_ERROR },
    { "external-dtd", external_dtd, NWF_ERR_XML_ERROR },
    { "two-mib", two_mib, NWF_ERR_XML_ERROR },
    { "deep-nesting-10000", deep_nesting, NWF_ERR_XML_DETAIL },
    { "nesting-70", moderate_nesting, NWF_ERR_XML_ERROR },
    { "attribute-1mb", huge_attribute, NWF_ERR_XML_ERROR },
    { "text-1mb", huge_text, NWF_ERR_XML_ERROR },
    { "invalid-utf8", invalid_utf8, NWF_ERR_XML_ERROR },
    { "overlong-utf8", overlong_utf8, NWF_ERR_XML_ERROR },
    { "latin1-bytes", latin1_declared, NWF_ERR_XML_ERROR },
    { "char-ref-nul", bad_char_ref, NWF_ERR_XML_DETAIL },
    { "undefined-entity", undefined_entity, NWF_ERR_XML_DETAIL },
    { "not-well-formed", not_well_formed, NWF_ERR_XML_DETAIL },
    { "empty", empty_document, NWF_ERR_XML_DETAIL },
    { "only-comment", only_comment, NWF_ERR_XML_DETAIL },
};

static void
check_error(const GError *error, const HostileCase *c)
{
    g_assert_nonnull(error);
    g_assert_cmpint(nwf_error_code(error), ==, c->code);
    /* nothing from the local file may leak into the message */
    g_assert_null(strstr(error->message, "root:"));
    g_test_message("%s: %s", c->name, error->message);
}

static void
test_filter(gconstpointer data)
{
    const HostileCase *c = data;
    g_autofree char *doc = c->make();
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(doc, (gssize)strlen(doc), &error);

    g_assert_null(def);
    check_error(error, c);
}

static void
test_binding(gconstpointer data)
{
    const HostileCase *c = data;
    g_autofree char *doc = c->make();
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = NULL;
    char *root = strstr(doc, "<filter ");

    /* the same attack on a binding document */
    if (root)
        memcpy(root, "<filtex ", 8);
    def = nwf_binding_def_parse_string(doc, (gssize)strlen(doc), &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_null(strstr(error->message, "root:"));
}

/* A NUL inside the given length must not cut the document short silently. */
static void
test_embedded_nul(void)
{
    static const char doc[] = "<filter name='a'/>\0<junk";
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(doc, sizeof(doc) - 1, &error);

    g_assert_null(def);
    g_assert_cmpint(nwf_error_code(error), ==, NWF_ERR_XML_ERROR);
}

/* The largest accepted document (just under 1 MiB of rules) still parses. */
static void
test_large_valid(void)
{
    GString *s = g_string_new("<filter name='a'>");
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = NULL;
    g_autofree char *doc = NULL;

    while (s->len < 1000 * 1000)
        g_string_append(s, "<rule action='drop' direction='in'><tcp dstportstart='22'/></rule>\n");
    g_string_append(s, "</filter>");
    doc = g_string_free(s, FALSE);
    def = nwf_filter_def_parse_string(doc, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->entries->len, >, 10000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *fname = g_strdup_printf("/conf/hostile/filter/%s", cases[i].name);
        g_autofree char *bname = g_strdup_printf("/conf/hostile/binding/%s", cases[i].name);
        g_test_add_data_func(fname, &cases[i], test_filter);
        g_test_add_data_func(bname, &cases[i], test_binding);
    }
    g_test_add_func("/conf/hostile/embedded-nul", test_embedded_nul);
    g_test_add_func("/conf/hostile/large-valid", test_large_valid);
    return g_test_run();
}
