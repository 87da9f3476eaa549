/* briefgen._htmlscan: the self-check's tokenizer in C (see briefgen/selfcheck.py).
 *
 * scan(html, pos, final, stack, ids, links) walks the tokens of ``html`` from ``pos``
 * exactly as selfcheck._TOKEN.finditer does (comments, declarations, processing
 * instructions, start and end tags whose quoted attribute values may hold ">"), and
 * does itself what _Scan.scan would do for the common tokens:
 *
 *   - comments and declarations are skipped;
 *   - an end tag that closes the open element pops ``stack`` (a void one is ignored);
 *   - a start tag whose name is ASCII and whose attributes all have the plain shape
 *     name="value" is checked as _Scan.start would check it: "class" and attributes it
 *     does not look at are passed over, an "id" goes into ``ids``, an ``href="#..."``
 *     into ``links`` (a dict used as an ordered set) unless ``ids`` has it already, a "style" without url(, @import or expression( is passed; then the
 *     element is pushed onto ``stack`` unless it is void or ends in "/".
 *
 * Anything else (a raw-text or forbidden element, an event handler, any other URL, a
 * second id or one already seen, an entity in a value that matters, a name or a style
 * that is not ASCII, a mismatched end tag, attributes of another shape) is handed back
 * to Python untouched, which treats it as before. So the verdict is the Python scanner's
 * by construction; tests/test_selfcheck.py compares the two on real and generated pages.
 *
 * Returns (0, position) when the scan is over (the value _Scan.scan returns: with
 * ``final`` false, where the text that more input could change begins), or
 * (1, start, end, slash, name_end) for a token Python must handle; it then calls scan
 * again from ``end`` (or from where that token's raw text ends).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define NAME_MAX_LEN 31

static const char *const VOID_TAGS[] = {"meta", "link", "br", "img", "col", "hr", "input", "source",
                                        "wbr", "area", "base", "embed", "param", "track", NULL};
/* Elements the Python side handles itself: the forbidden ones and the raw-text ones. */
static const char *const PYTHON_TAGS[] = {"script", "iframe", "object", "embed", "base", "form", "link",
                                          "style", NULL};
static const char *const URL_ATTRS[] = {"href", "src", "srcset", "action", "formaction", "poster",
                                        "data", "xlink:href", NULL};

static int in_list(const char *const *list, const char *name) {
    for (; *list; list++)
        if ((*list)[0] == name[0] && strcmp(*list, name) == 0) /* (most names differ at once) */
            return 1;
    return 0;
}

/* One str object per tag name seen (there are a few dozen), so that pushing a tag onto
 * the stack makes no new object. */
#define NAME_SLOTS 128
static struct {
    char name[NAME_MAX_LEN + 1];
    PyObject *str;
} names[NAME_SLOTS];

static PyObject *name_str(const char *name, Py_ssize_t len) {
    unsigned h = 5381;
    for (Py_ssize_t i = 0; i < len; i++)
        h = h * 33 + (unsigned char)name[i];
    for (int probe = 0; probe < 8; probe++) {
        int slot = (h + probe) % NAME_SLOTS;
        if (names[slot].str == NULL) {
            PyObject *s = PyUnicode_FromStringAndSize(name, len);
            if (s == NULL)
                return NULL;
            memcpy(names[slot].name, name, len + 1);
            names[slot].str = s;
            Py_INCREF(s);
            return s;
        }
        if (strcmp(names[slot].name, name) == 0) {
            Py_INCREF(names[slot].str);
            return names[slot].str;
        }
    }
    return PyUnicode_FromStringAndSize(name, len);
}

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

/* The first ``c`` (an ASCII character) at or after ``from``, or -1. */
static Py_ssize_t find_char(const Text *t, Py_UCS4 c, Py_ssize_t from) {
    if (from >= t->n)
        return -1;
    if (t->kind == PyUnicode_1BYTE_KIND) {
        const char *p = memchr((const char *)t->data + from, (int)c, t->n - from);
        return p ? p - (const char *)t->data : -1;
    }
    if (t->kind == PyUnicode_2BYTE_KIND) {
        /* A page with any character past U+00FF (a curly quote) is stored two bytes a
         * character: look for the byte with memchr, then keep only a hit that is a
         * whole character (at an even offset, the character equal to c). */
        const Py_UCS2 *chars = (const Py_UCS2 *)t->data;
        const char *bytes = (const char *)t->data, *end = bytes + 2 * t->n;
        const char *p = bytes + 2 * from;
        while ((p = memchr(p, (int)c, end - p)) != NULL) {
            Py_ssize_t off = p - bytes;
            if (off % 2 == 0 && chars[off / 2] == c)
                return off / 2;
            p++;
        }
        return -1;
    }
    for (Py_ssize_t i = from; i < t->n; i++)
        if (AT(t, i) == c)
            return i;
    return -1;
}

static int is_alpha(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
/* Whitespace the plain shape accepts here: ASCII only (Python's \s also takes other
 * characters; a tag with them is handed to Python). */
static int is_space(Py_UCS4 c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_name_start(Py_UCS4 c) { return is_alpha(c) || c == '_' || c == ':'; }
static int is_name_char(Py_UCS4 c) {
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

enum { NO_TOKEN, SKIP, TAG };

/* The token that starts at ``j`` (where there is a "<"), as _TOKEN matches it. */
static int match_token(const Text *t, Py_ssize_t j, Py_ssize_t *end, int *slash, Py_ssize_t *name_end) {
    Py_ssize_t n = t->n;
    if (j + 1 >= n)
        return NO_TOKEN;
    Py_UCS4 c1 = AT(t, j + 1);
    if (c1 == '!' && j + 3 < n && AT(t, j + 2) == '-' && AT(t, j + 3) == '-') {
        /* <!-- .*? (--!?> | end of text) */
        for (Py_ssize_t k = j + 4;; k++) {
            if (k >= n) {
                *end = n;
                return SKIP;
            }
            if (AT(t, k) == '-' && k + 2 < n && AT(t, k + 1) == '-') {
                if (AT(t, k + 2) == '>') {
                    *end = k + 3;
                    return SKIP;
                }
                if (AT(t, k + 2) == '!' && k + 3 < n && AT(t, k + 3) == '>') {
                    *end = k + 4;
                    return SKIP;
                }
            }
        }
    }
    if (c1 == '!' || c1 == '?') {
        Py_ssize_t gt = find_char(t, '>', j + 2);
        *end = gt < 0 ? n : gt + 1;
        return SKIP;
    }
    *slash = c1 == '/';
    Py_ssize_t k = j + 1 + *slash;
    if (k >= n || !is_alpha(AT(t, k)))
        return NO_TOKEN;
    for (k++; k < n; k++) {
        Py_UCS4 c = AT(t, k);
        if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ' ' || c == '/' || c == '>' || c == 0)
            break;
    }
    *name_end = k;
    while (k < n) {
        Py_UCS4 c = AT(t, k);
        if (c == '>') {
            *end = k + 1;
            return TAG;
        }
        if (c == '"' || c == '\'') {
            Py_ssize_t close = find_char(t, c, k + 1);
            if (close < 0)
                return NO_TOKEN;
            k = close + 1;
        } else
            k++;
    }
    return NO_TOKEN;
}

/* The tag name from ``from`` to ``to`` lower-cased into ``out``; 0 if it is not ASCII
 * or too long (Python handles such a tag). */
static int lower_name(const Text *t, Py_ssize_t from, Py_ssize_t to, char *out) {
    if (to - from > NAME_MAX_LEN)
        return 0;
    Py_ssize_t len = 0;
    for (Py_ssize_t i = from; i < to; i++) {
        Py_UCS4 c = AT(t, i);
        if (c >= 128 || c == 0)
            return 0;
        out[len++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
    }
    out[len] = 0;
    return 1;
}

static int ascii_contains_nocase(const Text *t, Py_ssize_t from, Py_ssize_t to, const char *word) {
    size_t w = strlen(word);
    for (Py_ssize_t i = from; i + (Py_ssize_t)w <= to; i++) {
        size_t k = 0;
        for (; k < w; k++) {
            Py_UCS4 c = AT(t, i + k);
            if (c >= 'A' && c <= 'Z')
                c += 32;
            if (c != (Py_UCS4)word[k])
                break;
        }
        if (k == w)
            return 1;
    }
    return 0;
}

/* A start tag's attributes (from ``k`` to ``stop``, the ">" excluded) if they all have the
 * plain shape and need nothing from Python: 1 and the id / link spans found, else 0.
 * ``self_closing`` tells whether they end in "/". */
static int plain_attributes(const Text *t, Py_ssize_t k, Py_ssize_t stop, Py_ssize_t *id_from, Py_ssize_t *id_to,
                            Py_ssize_t *link_from, Py_ssize_t *link_to, int *self_closing) {
    *id_from = *link_from = -1;
    *self_closing = 0;
    if (k == stop)
        return 1;
    int attrs = 0;
    for (;;) {
        Py_ssize_t ws = k;
        while (k < stop && is_space(AT(t, k)))
            k++;
        if (k == stop)
            return attrs > 0; /* trailing whitespace after at least one attribute */
        if (AT(t, k) == '/' && k + 1 == stop) {
            *self_closing = 1;
            return attrs > 0;
        }
        if (k == ws || !is_name_start(AT(t, k)))
            return 0;
        Py_ssize_t name_from = k;
        while (k < stop && is_name_char(AT(t, k)))
            k++;
        char name[NAME_MAX_LEN + 1];
        int short_name = k - name_from <= NAME_MAX_LEN && lower_name(t, name_from, k, name);
        if (k + 1 >= stop || AT(t, k) != '=' || AT(t, k + 1) != '"')
            return 0;
        Py_ssize_t value_from = k + 2;
        Py_ssize_t value_to = find_char(t, '"', value_from);
        if (value_to < 0 || value_to >= stop)
            return 0;
        k = value_to + 1;
        attrs++;
        if (!short_name) {
            /* A long name is none of those below; only "on..." matters. */
            Py_UCS4 a = AT(t, name_from), b = AT(t, name_from + 1);
            if ((a == 'o' || a == 'O') && (b == 'n' || b == 'N'))
                return 0;
            continue;
        }
        if (strcmp(name, "class") == 0)
            continue;
        if (name[0] == 'o' && name[1] == 'n')
            return 0;
        int matters = strcmp(name, "id") == 0 || strcmp(name, "style") == 0 || in_list(URL_ATTRS, name);
        if (!matters)
            continue; /* (an entity in its value changes nothing that is checked) */
        for (Py_ssize_t i = value_from; i < value_to; i++)
            if (AT(t, i) == '&')
                return 0;
        if (strcmp(name, "id") == 0) {
            if (value_to == value_from)
                continue;
            if (*id_from >= 0)
                return 0;
            *id_from = value_from;
            *id_to = value_to;
        } else if (strcmp(name, "style") == 0) {
            for (Py_ssize_t i = value_from; i < value_to; i++)
                if (AT(t, i) >= 128)
                    return 0;
            if (ascii_contains_nocase(t, value_from, value_to, "url(") ||
                ascii_contains_nocase(t, value_from, value_to, "@import") ||
                ascii_contains_nocase(t, value_from, value_to, "expression("))
                return 0;
        } else if (strcmp(name, "href") == 0 && value_to > value_from && AT(t, value_from) == '#' &&
                   *link_from < 0) {
            *link_from = value_from + 1;
            *link_to = value_to;
        } else
            return 0;
    }
}

static PyObject *done(Py_ssize_t at) { return Py_BuildValue("(in)", 0, at); }

static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *html, *stack, *ids, *links;
    Py_ssize_t pos;
    int final;
    if (!PyArg_ParseTuple(args, "UnpO!O!O!", &html, &pos, &final, &PyList_Type, &stack, &PySet_Type, &ids,
                          &PyDict_Type, &links))
        return NULL;
    Text t = {PyUnicode_KIND(html), PyUnicode_DATA(html), PyUnicode_GET_LENGTH(html)};
    Py_ssize_t i = pos;
    for (;;) {
        Py_ssize_t j = find_char(&t, '<', i);
        if (j < 0)
            return done(t.n);
        Py_ssize_t end = 0, name_end = 0;
        int slash = 0;
        int kind = match_token(&t, j, &end, &slash, &name_end);
        if (kind == NO_TOKEN) {
            if (!final)
                return done(j); /* a "<" that more text could make a token */
            i = j + 1;
            continue;
        }
        if (!final && end == t.n)
            return done(j); /* a token that more text could change */
        if (kind == SKIP) {
            i = end;
            continue;
        }
        char name[NAME_MAX_LEN + 1];
        Py_ssize_t name_from = j + 1 + slash;
        if (!lower_name(&t, name_from, name_end, name))
            return Py_BuildValue("(innin)", 1, j, end, slash, name_end);
        size_t name_len = strlen(name);
        int is_void = in_list(VOID_TAGS, name);
        if (slash) {
            if (!is_void) {
                Py_ssize_t depth = PyList_GET_SIZE(stack);
                if (depth == 0 ||
                    PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(stack, depth - 1), name) != 0)
                    return Py_BuildValue("(innin)", 1, j, end, slash, name_end); /* a mismatch */
                if (PyList_SetSlice(stack, depth - 1, depth, NULL) < 0)
                    return NULL;
            }
            i = end;
            continue;
        }
        Py_ssize_t id_from, id_to, link_from, link_to;
        int self_closing;
        if (in_list(PYTHON_TAGS, name) ||
            !plain_attributes(&t, name_end, end - 1, &id_from, &id_to, &link_from, &link_to, &self_closing))
            return Py_BuildValue("(innin)", 1, j, end, slash, name_end);
        if (id_from >= 0) {
            PyObject *id = PyUnicode_Substring(html, id_from, id_to);
            if (id == NULL)
                return NULL;
            int seen = PySet_Contains(ids, id);
            if (seen == 0)
                seen = PySet_Add(ids, id) < 0 ? -1 : 0;
            Py_DECREF(id);
            if (seen < 0)
                return NULL;
            if (seen)
                return Py_BuildValue("(innin)", 1, j, end, slash, name_end); /* a duplicate */
        }
        if (link_from >= 0) {
            PyObject *link = PyUnicode_Substring(html, link_from, link_to);
            if (link == NULL)
                return NULL;
            int known = PySet_Contains(ids, link);
            if (known == 0)
                known = PyDict_SetItem(links, link, Py_None) < 0 ? -1 : 0;
            Py_DECREF(link);
            if (known < 0)
                return NULL;
        }
        if (!is_void && !self_closing) {
            PyObject *tag = name_str(name, (Py_ssize_t)name_len);
            if (tag == NULL)
                return NULL;
            int failed = PyList_Append(stack, tag);
            Py_DECREF(tag);
            if (failed)
                return NULL;
        }
        i = end;
    }
}

static PyObject *tuple_of(const char *const *list) {
    Py_ssize_t n = 0;
    while (list[n])
        n++;
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(list[i]);
        if (s == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, s);
    }
    return tuple;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(html, pos, final, stack, ids, links) -> (0, position) | (1, start, end, slash, name_end)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "briefgen._htmlscan",
                                    "The self-check's tokenizer in C.", -1, methods};

PyMODINIT_FUNC PyInit__htmlscan(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObject(m, "VOID", tuple_of(VOID_TAGS)) < 0 ||
        PyModule_AddObject(m, "PYTHON_TAGS", tuple_of(PYTHON_TAGS)) < 0 ||
        PyModule_AddObject(m, "URL_ATTRS", tuple_of(URL_ATTRS)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
