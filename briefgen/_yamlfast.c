/* briefgen._yamlfast: the fast path of briefgen.yamlsafe in C.
 *
 * read_plain(data, resolve, unread, max_depth) reads UTF-8 YAML with libyaml and builds
 * the dicts, lists and strings straight from libyaml's events, with none of the
 * per-event Python objects (event, two marks) that PyYAML's parser makes. It is
 * yamlsafe._read_plain_py, rule for rule: a file that holds anything unusual (a tag, an
 * anchor, an alias, a duplicate or non-text key, a merge key, a control character
 * brought in by an escape, a second document, nesting deeper than max_depth, any error)
 * gives back `unread`, and the careful reader then reads and reports on it. Plain
 * scalars that could be something other than text go to `resolve` (yamlsafe's YAML 1.2
 * core schema), so the two readers share one resolver.
 *
 * tests/test_yamlfast.py checks that both give the same answer on every YAML file of
 * the project, on generated documents and on hand-picked odd ones.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

typedef struct {
    PyObject *container; /* borrowed: owned by its parent (or by root) */
    int in_list;
} Frame;

/* A character YAML forbids in a stream (yamlsafe._NON_PRINTABLE). */
static int
holds_forbidden(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x20) {
            if (c != 0x09 && c != 0x0a && c != 0x0d)
                return 1;
        }
        else if (c >= 0x7f && c <= 0x9f) {
            if (c != 0x85)
                return 1;
        }
        else if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff) {
            return 1;
        }
    }
    return 0;
}

/* Outcome of one step: go on, give up (the careful reader takes over), or a Python error. */
enum { GO = 1, UNREAD = 0, FAILED = -1 };

/* A Python exception raised while reading: an ordinary one means "read it carefully"
 * (as the Python reader's `except Exception`), anything else (KeyboardInterrupt) stands. */
static int
give_up_on_error(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return UNREAD;
    }
    return FAILED;
}


/* Whether a plain scalar is written as YAML 1.2 core null, boolean or number (the
 * patterns of yamlsafe._resolve_plain: ~, null, true, false in their three spellings,
 * [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+, [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?,
 * [-+]?.inf and .nan in three spellings). Only these go to `resolve`; every other plain
 * scalar is text as it stands, with no call into Python. */
static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
spelled(const char *s, size_t n, const char *lower, const char *title, const char *upper)
{
    size_t len = strlen(lower);
    return n == len && (memcmp(s, lower, n) == 0 || memcmp(s, title, n) == 0 || memcmp(s, upper, n) == 0);
}

static int
might_not_be_text(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (s[n - 1] == '\n') /* never in a plain scalar; left to the resolver all the same */
        return 1;
    switch (s[0]) {
    case '~':
        return n == 1;
    case 'n':
    case 'N':
        return spelled(s, n, "null", "Null", "NULL");
    case 't':
    case 'T':
        return spelled(s, n, "true", "True", "TRUE");
    case 'f':
    case 'F':
        return spelled(s, n, "false", "False", "FALSE");
    default:
        break;
    }
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        for (i = 2; i < n; i++) {
            char c = s[i];
            int ok = s[1] == 'o' ? (c >= '0' && c <= '7')
                                 : (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
            if (!ok)
                return 0;
        }
        return 1;
    }
    if (s[i] == '+' || s[i] == '-')
        i++;
    if (i == 0 && spelled(s, n, ".nan", ".NaN", ".NAN"))
        return 1;
    if (spelled(s + i, n - i, ".inf", ".Inf", ".INF"))
        return 1;
    size_t digits = 0;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        size_t fraction = 0;
        while (i < n && is_digit(s[i])) {
            i++;
            fraction++;
        }
        if (digits == 0 && fraction == 0)
            return 0;
    }
    else if (digits == 0) {
        return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exponent = 0;
        while (i < n && is_digit(s[i])) {
            i++;
            exponent++;
        }
        if (exponent == 0)
            return 0;
    }
    return i == n;
}

/* The commonest non-text plain scalars resolved here, as yamlsafe._resolve_plain would:
 * null, the booleans and decimal integers of up to 18 digits. NULL (with no error set)
 * for any other: those go to `resolve`. */
static PyObject *
resolve_common(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '~') || spelled(s, n, "null", "Null", "NULL"))
        Py_RETURN_NONE;
    if (spelled(s, n, "true", "True", "TRUE"))
        Py_RETURN_TRUE;
    if (spelled(s, n, "false", "False", "FALSE"))
        Py_RETURN_FALSE;
    size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (n - i == 0 || n - i > 18)
        return NULL;
    long long v = 0;
    for (size_t j = i; j < n; j++) {
        if (!is_digit(s[j]))
            return NULL;
        v = v * 10 + (s[j] - '0');
    }
    return PyLong_FromLongLong(s[0] == '-' ? -v : v);
}

static PyObject *
might_not_be_text_py(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (s == NULL)
        return NULL;
    return PyBool_FromLong(might_not_be_text(s, (size_t)n));
}

/* Mapping keys already made in this file, by their UTF-8 (a small open-addressing table:
 * a fact file uses a few dozen names, each thousands of times). Sharing one string per
 * name saves making and freeing it, and its hash is worked out once. */
#define KEY_MAX 48
#define KEY_SLOTS 256

typedef struct {
    size_t length;
    char text[KEY_MAX];
    PyObject *str; /* owned; NULL for an empty slot */
} KeySlot;

static PyObject *
known_key(KeySlot *keys, const char *text, size_t length)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    for (size_t probe = 0; probe < 8; probe++) {
        KeySlot *slot = &keys[(h + probe) % KEY_SLOTS];
        if (slot->str == NULL) {
            PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)length, "strict");
            if (str == NULL)
                return NULL;
            slot->length = length;
            memcpy(slot->text, text, length);
            slot->str = Py_NewRef(str);
            return str;
        }
        if (slot->length == length && memcmp(slot->text, text, length) == 0)
            return Py_NewRef(slot->str);
    }
    return PyUnicode_DecodeUTF8(text, (Py_ssize_t)length, "strict"); /* table crowded: make it */
}

static PyObject *
read_plain(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer buf;
    PyObject *resolve, *unread;
    int max_depth;
    if (!PyArg_ParseTuple(args, "y*OOi", &buf, &resolve, &unread, &max_depth))
        return NULL;

    yaml_parser_t parser;
    yaml_event_t event;
    if (!yaml_parser_initialize(&parser)) {
        PyBuffer_Release(&buf);
        return PyErr_NoMemory();
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf.buf, (size_t)buf.len);

    Frame *stack = NULL; /* the enclosing collections */
    Py_ssize_t depth = 0, capacity = 0;
    Frame cur = {NULL, 0}; /* the collection being filled; NULL at the top */
    PyObject *key = NULL;  /* in a mapping: the key waiting for its value (owned) */
    PyObject *root = NULL; /* owned */
    KeySlot *keys = PyMem_Calloc(KEY_SLOTS, sizeof(KeySlot));
    if (keys == NULL) {
        yaml_parser_delete(&parser);
        PyBuffer_Release(&buf);
        return PyErr_NoMemory();
    }
    int documents = 0;
    int state = GO;
    int done = 0;

    while (state == GO && !done) {
        if (!yaml_parser_parse(&parser, &event)) {
            state = UNREAD; /* a syntax or character error: the careful reader reports it */
            break;
        }
        PyObject *value = NULL; /* owned, to attach */
        int is_collection = 0;
        switch (event.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                state = UNREAD;
            break;
        case YAML_ALIAS_EVENT:
            state = UNREAD;
            break;
        case YAML_SCALAR_EVENT: {
            if (event.data.scalar.tag != NULL || event.data.scalar.anchor != NULL) {
                state = UNREAD;
                break;
            }
            const char *text = (const char *)event.data.scalar.value;
            size_t length = event.data.scalar.length;
            yaml_scalar_style_t style = event.data.scalar.style;
            int plain = style == YAML_PLAIN_SCALAR_STYLE || style == YAML_ANY_SCALAR_STYLE;
            if (plain && cur.container != NULL && !cur.in_list && key == NULL && length <= KEY_MAX &&
                !might_not_be_text(text, length)) {
                /* A plain text key: the same few names over and over, made once each. */
                value = known_key(keys, text, length);
                if (value == NULL)
                    state = give_up_on_error();
                break;
            }
            value = PyUnicode_DecodeUTF8(text, (Py_ssize_t)length, "strict");
            if (value == NULL) {
                state = give_up_on_error();
                break;
            }
            if (plain) {
                if (might_not_be_text(text, length)) {
                    PyObject *resolved = resolve_common(text, length);
                    if (resolved == NULL && !PyErr_Occurred())
                        resolved = PyObject_CallOneArg(resolve, value);
                    Py_DECREF(value);
                    value = resolved;
                    if (value == NULL) {
                        state = give_up_on_error();
                        break;
                    }
                }
            }
            else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && holds_forbidden(value)) {
                Py_DECREF(value);
                value = NULL;
                state = UNREAD;
                break;
            }
            break;
        }
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
            int is_map = event.type == YAML_MAPPING_START_EVENT;
            yaml_char_t *tag = is_map ? event.data.mapping_start.tag : event.data.sequence_start.tag;
            yaml_char_t *anchor = is_map ? event.data.mapping_start.anchor : event.data.sequence_start.anchor;
            if (tag != NULL || anchor != NULL || depth >= max_depth) {
                state = UNREAD;
                break;
            }
            value = is_map ? PyDict_New() : PyList_New(0);
            if (value == NULL) {
                state = FAILED;
                break;
            }
            is_collection = 1 + is_map; /* 1: list, 2: mapping */
            break;
        }
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (depth == 0 || key != NULL) { /* libyaml never does this; be safe all the same */
                state = UNREAD;
                break;
            }
            cur = stack[--depth];
            break;
        default: /* stream start, document end: nothing to keep */
            break;
        }
        yaml_event_delete(&event);
        if (state != GO) {
            Py_XDECREF(value);
            continue;
        }
        if (value == NULL)
            continue;

        /* Attach the value where it belongs (value is owned here). */
        if (cur.container == NULL) {
            Py_XSETREF(root, value);
            value = NULL;
        }
        else if (cur.in_list) {
            if (PyList_Append(cur.container, value) < 0)
                state = FAILED;
        }
        else if (key != NULL) {
            if (PyDict_SetItem(cur.container, key, value) < 0)
                state = FAILED;
            Py_CLEAR(key);
        }
        else if (is_collection || !PyUnicode_CheckExact(value) ||
                 PyUnicode_CompareWithASCIIString(value, "<<") == 0) {
            state = UNREAD; /* a collection, a non-text or a merge key */
        }
        else {
            int seen = PyDict_Contains(cur.container, value);
            if (seen != 0) {
                state = seen < 0 ? FAILED : UNREAD; /* a duplicate key */
            }
            else {
                key = value;
                value = NULL;
            }
        }
        if (state == GO && is_collection) {
            if (depth == capacity) {
                Py_ssize_t grown = capacity ? capacity * 2 : 16;
                Frame *more = PyMem_Realloc(stack, (size_t)grown * sizeof(Frame));
                if (more == NULL) {
                    PyErr_NoMemory();
                    state = FAILED;
                }
                else {
                    stack = more;
                    capacity = grown;
                }
            }
            if (state == GO) {
                PyObject *container = value != NULL ? value : root; /* borrowed from its parent */
                stack[depth++] = cur;
                cur.container = container;
                cur.in_list = is_collection == 1;
            }
        }
        Py_XDECREF(value); /* its parent holds it now (or it was not attached) */
    }

    yaml_parser_delete(&parser);
    PyBuffer_Release(&buf);
    PyMem_Free(stack);
    for (size_t i = 0; i < KEY_SLOTS; i++)
        Py_XDECREF(keys[i].str);
    PyMem_Free(keys);
    Py_XDECREF(key);
    if (state == FAILED) {
        Py_XDECREF(root);
        return NULL;
    }
    if (state == UNREAD || root == NULL || root == Py_None) {
        Py_XDECREF(root);
        return Py_NewRef(unread);
    }
    return root;
}

static PyObject *
resolve_common_py(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (s == NULL)
        return NULL;
    PyObject *v = resolve_common(s, (size_t)n);
    if (v == NULL && !PyErr_Occurred())
        Py_RETURN_NOTIMPLEMENTED;
    return v;
}

static PyMethodDef methods[] = {
    {"read_plain", read_plain, METH_VARARGS,
     "read_plain(data, resolve, unread, max_depth): the data of plain YAML, or unread."},
    {"resolve_common", resolve_common_py, METH_O,
     "resolve_common(scalar): what read_plain makes of this plain scalar itself, or NotImplemented."},
    {"might_not_be_text", might_not_be_text_py, METH_O,
     "might_not_be_text(scalar): whether read_plain hands this plain scalar to resolve."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "briefgen._yamlfast",
    "libyaml straight to Python data for briefgen.yamlsafe's fast path.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__yamlfast(void)
{
    return PyModule_Create(&module);
}
