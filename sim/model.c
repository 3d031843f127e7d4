/* model — the registry of models and what every model shares. See model.h. */
#include "sim/model.h"
#include "sim/util.h"
#include "strategies/strategy.h"  /* NEEDS_* */

#include <string.h>

extern const ModelOps model_mlp;    /* sim/mlp.c */
extern const ModelOps model_logreg; /* sim/logreg.c */
extern const ModelOps model_cnn;    /* sim/cnn.c */
extern const ModelOps model_bert;   /* sim/bertmodel.c */

static const ModelOps *const models[] = {&model_mlp, &model_logreg, &model_cnn, &model_bert};
enum { N_MODELS = (int)(sizeof models / sizeof models[0]) };

const ModelOps *model_find(const char *name) {
    for (int i = 0; name && i < N_MODELS; i++) {
        const char *colon = strchr(models[i]->name, ':');   /* bert:DIR: the prefix names it */
        if (colon ? !strncmp(models[i]->name, name, (size_t)(colon - models[i]->name) + 1)
                  : !strcmp(models[i]->name, name))
            return models[i];
    }
    return NULL;
}

/* The model a session fits under c: c->model's, or with a frozen encoder (bert:DIR,
 * --finetune none) the head fitted on its pooled vectors. */
static const ModelOps *ops_of(const Config *c) {
    if (model_is_frozen_encoder(c)) return model_find(c->head);
    return model_find(c->model);
}

const char *model_folder(const Config *c) {
    return strncmp(c->model, "bert:", 5) ? NULL : c->model + 5;
}

int model_is_frozen_encoder(const Config *c) {
    return model_folder(c) && !strcmp(c->finetune, "none");
}

void model_print_list(FILE *f) {
    for (int i = 0; i < N_MODELS; i++) fprintf(f, "%-17s %s\n", models[i]->name, models[i]->help);
}

int model_check(const Config *c, const char *strategy, int needs, char *err, size_t errlen) {
    const ModelOps *ops = ops_of(c);
    if (!ops) {
        snprintf(err, errlen, "--model: unknown model '%.300s'", c->model);
        return ALSIM_BAD_INPUT;
    }
    return ops->check ? ops->check(c, strategy, needs, err, errlen) : 0;
}

int model_has_mc(const Config *c) {
    char err[512];
    return model_check(c, "", NEEDS_MC, err, sizeof err) == 0;
}

int model_open(Model *m, const Config *c, const Dataset *pool, const Backend *be, char *err,
               size_t errlen) {
    memset(m, 0, sizeof *m);
    const ModelOps *ops = ops_of(c);
    if (!ops) {
        snprintf(err, errlen, "--model: unknown model '%.300s'", c->model);
        return ALSIM_BAD_INPUT;
    }
    m->ops = ops;
    int rc = ops->create(m, c, pool, be, err, errlen);
    if (rc) memset(m, 0, sizeof *m);
    return rc;
}

void model_close(Model *m) {
    if (m->ops) m->ops->destroy(m);
    memset(m, 0, sizeof *m);
}

LearnerInput model_rows(const Dataset *ds, int off, int n) {
    LearnerInput all = {.x = ds->x, .indptr = ds->indptr, .indices = ds->indices,
                        .values = ds->values, .n = ds->n, .d = ds->d};
    return learner_input_rows(&all, off, n);
}
