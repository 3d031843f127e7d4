/* test_bertmodel — `--model bert:DIR` fine-tuned (sim/bertmodel.c) against the committed
 * PyTorch reference, tests/fixtures/tiny-bert/reference.safetensors (make_tiny_bert.py): with
 * the reference's LoRA matrices and head put in the model's state, one step's loss and every
 * gradient (the head's, each layer's query and value adapters) match PyTorch; likewise the
 * head on the mean pooling with the last layer's own weights trained (every weight and
 * LayerNorm of it). Then: a fit is the same bits under the same seed and moves the loss
 * down; MC samples differ only through the head's dropout; and what the model refuses. */
#include "sim/bertmodel.h"
#include "sim/model.h"
#include "sim/safetensors.h"
#include "tests/check.h"
#include "tests/tiny_bert.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ref = the fixture's reference file, pool its inputs as token rows. Returns 0, or 1 (a
 * failed check) when the file does not open. */
static int open_reference(SafeTensors *ref, Dataset *pool) {
    char err[512] = "";
    if (st_open(ref, TINY_BERT_REFERENCE, err, sizeof err)) {
        CHECK(0, "%s\n", err);
        return 1;
    }
    tiny_bert_rows(pool, ref);
    return 0;
}

static void config_for(Config *c, const char *finetune, const char *pooling) {
    config_defaults(c, CMD_RUN);
    snprintf(c->model, sizeof c->model, "bert:%s", TINY_BERT);
    snprintf(c->finetune, sizeof c->finetune, "%s", finetune);
    snprintf(c->pooling, sizeof c->pooling, "%s", pooling);
    c->minibatch = 4;
}

/* Copies the reference tensor name (float) into at (count floats), or fails. */
static float *put(float *at, const SafeTensors *ref, const char *name) {
    const StTensor *t = st_find(ref, name);
    char err[256];
    CHECK(t != NULL, "reference: no %s\n", name);
    if (!t) return at;
    st_to_float(at, t, "reference", err, sizeof err);
    return at + t->numel;
}

/* Worst |got - want| / (1e-4·max|want| + 1e-3·|want| + 1e-6: a gradient that is zero in exact arithmetic,
 * such as the key bias's, is fp32 noise on both sides) over the reference tensor name, whose
 * values got holds from *at on; *at advances. */
static double compare(const float **at, const SafeTensors *ref, const char *name, int *bad) {
    const StTensor *t = st_find(ref, name);
    if (!t) {
        CHECK(0, "reference: no %s\n", name);
        return INFINITY;
    }
    float *want = malloc((size_t)t->numel * sizeof(float));
    char err[256];
    st_to_float(want, t, "reference", err, sizeof err);
    double scale = 0, worst = 0;
    for (int64_t i = 0; i < t->numel; i++) scale = fmax(scale, fabs(want[i]));
    for (int64_t i = 0; i < t->numel; i++) {
        const double e = fabs((double)(*at)[i] - want[i]) / (1e-4 * scale + 1e-3 * fabs(want[i]) + 1e-6);
        worst = fmax(worst, e);
        if (!(e <= 1.0)) {
            if (*bad < 5) fprintf(stderr, "  %s[%lld]: %.8g, want %.8g\n", name, (long long)i, (*at)[i], want[i]);
            (*bad)++;
        }
    }
    *at += t->numel;
    free(want);
    return worst;
}

/* One step's loss and gradients of finetune ("lora:4" on cls, "head+last:1" on mean) against
 * the reference's prefix ("m_lora", "m_last"). */
static void test_gradients(const char *finetune, const char *pooling, const char *prefix) {
    SafeTensors ref;
    Dataset pool = {0};
    char err[512] = "";
    if (open_reference(&ref, &pool)) return;
    Config c;
    config_for(&c, finetune, pooling);
    c.lora_alpha = 8;
    Model m;
    int rc = model_open(&m, &c, &pool, &backend_cpu, err, sizeof err);
    CHECK(rc == 0, "model_open %s: %d %s\n", finetune, rc, err);
    if (rc) {
        dataset_free(&pool);
        st_close(&ref);
        return;
    }
    model_reset(&m, 1);
    // the reference's head (and adapters) in the state: params | Adam m | v | t
    const size_t bytes = m.ops->state_size(&m), n_train = (bytes - sizeof(int)) / (3 * sizeof(float));
    float *state = malloc(bytes), *grads = malloc(n_train * sizeof(float));
    m.ops->save(&m, state);
    float *at = put(state, &ref, "head.weight");
    at = put(at, &ref, "head.bias");
    const int lora = !strncmp(finetune, "lora", 4);
    for (int l = 0; lora && l < 2; l++)
        for (int p = 0; p < 4; p++) {
            char name[64];
            snprintf(name, sizeof name, "lora.%d.%s.%s", l, p < 2 ? "query" : "value", p % 2 ? "B" : "A");
            at = put(at, &ref, name);
        }
    m.ops->restore(&m, state);
    const LearnerInput X = model_rows(&pool, 0, pool.n);
    const double loss = bert_model_loss_grad(grads, &m, &X, pool.y);
    char name[96];
    snprintf(name, sizeof name, "%s_loss", prefix);
    float want_loss;
    put(&want_loss, &ref, name);
    CHECK_NEAR(loss, want_loss, 1e-5, 1e-5);
    // every gradient, in the state's order
    int bad = 0;
    double worst = 0;
    const float *g = grads;
    static const char *const fields[] = {
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
        "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
        "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
        "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"};
    snprintf(name, sizeof name, "%s.head.weight.grad", prefix);
    worst = fmax(worst, compare(&g, &ref, name, &bad));
    snprintf(name, sizeof name, "%s.head.bias.grad", prefix);
    worst = fmax(worst, compare(&g, &ref, name, &bad));
    for (int i = 0; i < (lora ? 8 : 16); i++) {
        if (lora)
            snprintf(name, sizeof name, "%s.%d.%s.%s.grad", prefix, i / 4, i % 4 < 2 ? "query" : "value",
                     i % 2 ? "B" : "A");
        else
            snprintf(name, sizeof name, "%s.%s.grad", prefix, fields[i]);
        worst = fmax(worst, compare(&g, &ref, name, &bad));
    }
    CHECK(bad == 0 && g == grads + n_train, "%s: %d gradients out of tolerance; %td of %zu compared\n", finetune,
          bad, g - grads, n_train);
    printf("  --finetune %s, %s pooling: loss %.6f (PyTorch %.6f), %zu gradients, worst error/tolerance %.3f\n",
           finetune, pooling, loss, want_loss, n_train, worst);
    free(state);
    free(grads);
    model_close(&m);
    dataset_free(&pool);
    st_close(&ref);
}

/* Two models under one seed fit to the same bits; the fit lowers the training loss; MC
 * samples differ from one another (dropout in the head) and match probs with dropout 0. */
static void test_fit(const char *finetune) {
    SafeTensors ref;
    Dataset pool = {0};
    char err[512] = "";
    if (open_reference(&ref, &pool)) return;
    Config c;
    config_for(&c, finetune, "cls");
    c.lr = 0.01;
    Model a, b;
    if (model_open(&a, &c, &pool, &backend_cpu, err, sizeof err) ||
        model_open(&b, &c, &pool, &backend_cpu, err, sizeof err)) {
        CHECK(0, "%s\n", err);
        st_close(&ref);
        dataset_free(&pool);
        return;
    }
    const LearnerInput X = model_rows(&pool, 0, pool.n);
    Spent spent = {0};
    model_reset(&a, 7);
    model_reset(&b, 7);
    const double first = model_fit(&a, &spent, &X, pool.y, 1, 7, 0);
    model_fit(&b, &spent, &X, pool.y, 1, 7, 0);
    const double later = model_fit(&a, &spent, &X, pool.y, 40, 7, 1);
    model_fit(&b, &spent, &X, pool.y, 40, 7, 1);
    const size_t bytes = a.ops->state_size(&a);
    char *sa = malloc(bytes), *sb = malloc(bytes);
    a.ops->save(&a, sa);
    b.ops->save(&b, sb);
    CHECK(memcmp(sa, sb, bytes) == 0, "%s: two fits under one seed differ\n", finetune);
    CHECK(later < first, "%s: the loss did not fall: %g then %g\n", finetune, first, later);
    const int T = 4, n = pool.n;
    float *probs = malloc((size_t)n * 3 * sizeof(float)), *mc = malloc((size_t)T * n * 3 * sizeof(float));
    float *emb = malloc((size_t)n * a.emb_width * sizeof(float));
    model_predict(&a, probs, mc, emb, &X, T, 7, 2, 0);
    int differ = 0;
    for (int i = 0; i < n * 3; i++) differ += mc[i] != mc[n * 3 + i];
    CHECK(differ > 0, "%s: MC samples 0 and 1 are the same\n", finetune);
    printf("  --finetune %s: training loss %.4f after 1 step, %.4f after 41; fits under one seed identical\n", finetune,
           first, later);
    free(sa); free(sb); free(probs); free(mc); free(emb);
    model_close(&a);
    model_close(&b);
    dataset_free(&pool);
    st_close(&ref);
}

/* What the model refuses: rows that are not token rows, more layers than it has, more tokens
 * than positions (each code 2, naming the reason). */
static void test_refused(void) {
    char err[512] = "";
    Dataset pool = {0};
    dataset_alloc(&pool, 2, 4, 2, "c", err, sizeof err);
    for (int i = 0; i < 8; i++) pool.x[i] = (float)(i % 4);
    pool.y[0] = 0, pool.y[1] = 1;
    snprintf(pool.name, sizeof pool.name, "numbers");
    Config c;
    config_for(&c, "lora:2", "cls");
    Model m;
    int rc = model_open(&m, &c, &pool, &backend_cpu, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "reads text") && strstr(err, "numbers"), "not token rows: %d %s\n", rc, err);
    pool.text_tokens = 4;
    snprintf(c.finetune, sizeof c.finetune, "head+last:3");
    rc = model_open(&m, &c, &pool, &backend_cpu, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "has 2 layers"), "head+last:3 of 2 layers: %d %s\n", rc, err);
    dataset_free(&pool);
    dataset_alloc(&pool, 1, 129, 2, "c", err, sizeof err);
    for (int i = 0; i < 129; i++) pool.x[i] = 2;
    pool.text_tokens = 129;
    pool.y[0] = 0;
    snprintf(c.finetune, sizeof c.finetune, "lora:2");
    rc = model_open(&m, &c, &pool, &backend_cpu, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "128 positions"), "129 tokens: %d %s\n", rc, err);
    dataset_free(&pool);
    // the options' forms
    int r, k;
    CHECK(bert_finetune_parse(&r, &k, "lora:8") == 0 && r == 8 && k == 0, "lora:8\n");
    CHECK(bert_finetune_parse(&r, &k, "head+last:2") == 0 && r == 0 && k == 2, "head+last:2\n");
    CHECK(bert_finetune_parse(&r, &k, "none") == 0 && r == 0 && k == 0, "none\n");
    CHECK(bert_finetune_parse(&r, &k, "lora:") && bert_finetune_parse(&r, &k, "lora:0") &&
          bert_finetune_parse(&r, &k, "lora:2x") && bert_finetune_parse(&r, &k, "head"), "malformed specs refused\n");
    config_defaults(&c, CMD_RUN);
    snprintf(c.finetune, sizeof c.finetune, "lora:4");
    rc = bert_check_options(&c, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "--finetune applies to a language model"), "--finetune with mlp: %d %s\n", rc, err);
}

int main(void) {
    test_gradients("lora:4", "cls", "m_lora");
    test_gradients("head+last:1", "mean", "m_last");
    test_fit("lora:2");
    test_fit("head+last:1");
    test_refused();
    return check_done("test_bertmodel");
}
