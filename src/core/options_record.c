/* The options the components read, as PETSc's -help describes them.
 *
 * With -help in the options database, every PetscOptionsBegin block prints,
 * through the replaceable PetscHelpPrintf, a title and one line per option it
 * reads (PETSc 3.18, src/sys/objects/aoptions.c), for example
 *   -train_epochs <now 10 : formerly 10>: number of epochs (None)
 *   -train_lr <0.01 : 0.01>: initial learning rate (App. G: ...) (None)
 *   -net_bias: <TRUE : TRUE> layers have biases (None)
 *   -net_loss <now hinge : formerly hinge> loss: ... (choose one of) hinge absolute ... (None)
 *   -coupling_nb <100>: N_b of the correlation coefficients ... (None)
 * where "formerly" is the value before the options were read (the default)
 * and the last parentheses hold the manual section. Between
 * nn_options_record_begin() and nn_options_record_end() that text is kept on
 * every rank instead of printed, and read into records: the short help and
 * the nearest name to a misspelt option come from the components' own
 * registrations, with no second list to keep in step. */
#include "nncas/core.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char     *kept;      /* the help text printed since nn_options_record_begin */
static size_t    nkept, capacity;
static PetscBool recording, help_set_here;
static PetscErrorCode (*printer_saved)(MPI_Comm, const char[], ...);

static PetscErrorCode record_printf(MPI_Comm comm, const char format[], ...)
{
  va_list ap;
  int     n;
  PetscFunctionBeginUser;
  (void)comm;
  va_start(ap, format);
  n = vsnprintf(NULL, 0, format, ap); /* C's %g: "2", where PETSc's printf writes "2." */
  va_end(ap);
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "cannot format the help text \"%s\"", format);
  if (nkept + (size_t)n + 1 > capacity) {
    size_t want = 2 * (nkept + (size_t)n + 1);
    char  *more = realloc(kept, want);
    PetscCheck(more, PETSC_COMM_SELF, PETSC_ERR_MEM, "no memory for %zu bytes of help text", want);
    kept     = more;
    capacity = want;
  }
  va_start(ap, format);
  vsnprintf(kept + nkept, (size_t)n + 1, format, ap);
  va_end(ap);
  nkept += (size_t)n;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_options_record_begin(void)
{
  PetscBool help;
  PetscFunctionBeginUser;
  PetscCheck(!recording, PETSC_COMM_SELF, PETSC_ERR_ORDER, "nn_options_record_begin called twice");
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  help_set_here = help ? PETSC_FALSE : PETSC_TRUE;
  if (help_set_here) PetscCall(PetscOptionsSetValue(NULL, "-help", NULL));
  printer_saved   = PetscHelpPrintf;
  PetscHelpPrintf = record_printf;
  recording       = PETSC_TRUE;
  nkept           = 0;
  PetscFunctionReturn(0);
}

/* s without its last " (...)" when s ends with ")": PETSc's manual section. */
static void strip_mansec(char *s)
{
  size_t n   = strlen(s);
  char  *pos = NULL;
  if (!n || s[n - 1] != ')') return;
  for (char *p = strstr(s, " ("); p; p = strstr(p + 1, " (")) pos = p;
  if (pos) *pos = 0;
}

/* rest starts after the name: the default, from "<now A : formerly B>",
 * "<A : B>" or "<A>"; *rest moves past it. */
static void parse_default(char **rest, const char **deflt)
{
  char *s = *rest, *close, *sep;
  *deflt  = "";
  if (*s == ':') s++;
  while (*s == ' ') s++;
  if (*s == '<' && (close = strchr(s, '>'))) {
    *close = 0;
    if ((sep = strstr(s, " : formerly "))) *deflt = sep + strlen(" : formerly ");
    else if ((sep = strstr(s, " : "))) *deflt = sep + strlen(" : ");
    else *deflt = s + 1;
    s = close + 1;
    if (*s == ':') s++;
    while (*s == ' ') s++;
  }
  *rest = s;
}

/* One line of the help text into a record; *ok false for lines that are not
 * an option (titles, rules). */
static PetscErrorCode record_parse(char *line, NnOptionRecord *rec, PetscBool *ok)
{
  char        name[128], text[1024], *rest, *choices;
  const char *deflt;
  size_t      len;
  PetscFunctionBeginUser;
  while (*line == ' ') line++;
  *ok = line[0] == '-' && isalpha((unsigned char)line[1]) ? PETSC_TRUE : PETSC_FALSE;
  if (!*ok) PetscFunctionReturn(0);
  len = strspn(line + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
  PetscCall(PetscStrncpy(name, line + 1, PetscMin(len + 1, sizeof name)));
  rest = line + 1 + len;
  parse_default(&rest, &deflt);
  strip_mansec(rest);
  /* a list option's whole default: PETSc prints only its first value, so the text ends in "[default: A,B,C]" */
  char *list = strstr(rest, " [default: ");
  if (list && rest[strlen(rest) - 1] == ']') {
    rest[strlen(rest) - 1] = 0;
    *list = 0;
    deflt = list + strlen(" [default: ");
  }
  if ((choices = strstr(rest, " (choose one of)"))) { /* an enumeration: "TEXT (choose one of) A B C" */
    *choices = 0;
    PetscCall(PetscSNPrintf(text, sizeof text, "%s; one of%s", rest, choices + strlen(" (choose one of)")));
  } else PetscCall(PetscStrncpy(text, rest, sizeof text));
  PetscCall(PetscStrallocpy(name, &rec->name));
  PetscCall(PetscStrallocpy(!strcmp(deflt, "TRUE") ? "true" : !strcmp(deflt, "FALSE") ? "false" : deflt, &rec->deflt));
  PetscCall(PetscStrallocpy(text, &rec->text));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_options_record_end(NnOptionRecords *r)
{
  PetscInt lines = 1;
  char    *save  = NULL;
  PetscFunctionBeginUser;
  PetscCheck(recording, PETSC_COMM_SELF, PETSC_ERR_ORDER, "nn_options_record_end without nn_options_record_begin");
  PetscHelpPrintf = printer_saved;
  recording       = PETSC_FALSE;
  if (help_set_here) PetscCall(PetscOptionsClearValue(NULL, "-help"));
  for (size_t i = 0; i < nkept; i++) lines += kept[i] == '\n';
  PetscCall(PetscCalloc1(lines, &r->item));
  r->n = 0;
  for (char *line = nkept ? strtok_r(kept, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    PetscBool ok;
    PetscCall(record_parse(line, &r->item[r->n], &ok));
    if (ok) r->n++;
  }
  free(kept);
  kept  = NULL;
  nkept = capacity = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_options_records_destroy(NnOptionRecords *r)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < r->n; i++) {
    PetscCall(PetscFree(r->item[i].name));
    PetscCall(PetscFree(r->item[i].deflt));
    PetscCall(PetscFree(r->item[i].text));
  }
  PetscCall(PetscFree(r->item));
  r->n = 0;
  PetscFunctionReturn(0);
}
