/* config — the option table and everything driven by it. See config.h. */
#include "sim/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/bertmodel.h"
#include "sim/jsonw.h"
#include "sim/model.h"
#include "sim/util.h"
#include "strategies/albl.h"
#include "strategies/strategy.h"

enum { OPT_INT, OPT_U64, OPT_DOUBLE, OPT_STR, OPT_FLAG, OPT_HIDDEN };
enum { HASH_UNLESS_DEFAULT = 2 };

typedef struct {
    const char *name;       /* --name on the command line; name with '_' for '-' in JSON */
    int cmds;               /* the subcommands (Command bits) that take it */
    int type;
    size_t offset;          /* into Config */
    size_t size;            /* OPT_STR: buffer size */
    double min, max;        /* allowed range for numbers (inclusive) */
    int affects_results;    /* run: part of config_hash; HASH_UNLESS_DEFAULT: only when it
                               differs from its default (an option added later: the run ids of
                               runs that do not use it stay as they were) */
    const char *dflt;       /* the default, as it would be typed; NULL: empty or zero */
    const char *arg, *help;
} Option;

#define RUN CMD_RUN
#define TP CMD_TRAIN_POLICY
#define STATS (CMD_REPORT | CMD_BASELINE)
#define STR_(x) #x
#define STR(x) STR_(x)
#define F(field) offsetof(Config, field)
#define S(field) sizeof(((Config *)0)->field)
/* The run rows come first, in the order of config.json (their order is part of the config
 * hash); a run row that train-policy shares shapes its episodes exactly as it shapes a run. */
static const Option options[] = {
    {"dataset",      RUN,      OPT_STR,    F(dataset), S(dataset), 0, 0, 1, "mnist", "NAME|PATH",
     "mnist, synthetic:blobs[:k=..,d=..], a folder of IDX files, idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS], "
     "FILE.csv|.tsv|.svm|.arff, csv:|svmlight:|arff:FILE, npy:X.npy,y.npy"},
    {"label",        RUN | TP, OPT_STR,    F(label), S(label), 0, 0, 1, NULL, "NAME|INDEX",
     "class column (csv) or attribute (arff): a name or 0-based index; default the last (nominal) one"},
    {"test",         RUN,      OPT_STR,    F(test), S(test), 0, 0, 1, NULL, "PATH", "a fixed test set in the dataset's format (npy: XT.npy,YT.npy)"},
    {"test-frac",    RUN | TP, OPT_DOUBLE, F(test_frac), 0, 0.01, 0.99, 1, STR(DATASET_TEST_FRAC), "f", "share of each class split off as the test set, without --test"},
    {"standardize",  RUN | TP, OPT_FLAG,   F(standardize), 0, 0, 1, HASH_UNLESS_DEFAULT, NULL, NULL,
     "z-score every feature with the pool's mean and sd (never the test set's); sparse data: divided by the sd only"},
    {"strategy",     RUN,      OPT_STR,    F(strategy), S(strategy), 0, 0, 0, "bald", "S", "query strategy (alsim --list); teacher is label look-ahead, for measurement only"},
    {"model",        RUN | TP, OPT_STR,    F(model), S(model), 0, 0, 1, "mlp", "M",
     "the model fitted each round: mlp, logreg, cnn (images) or bert:DIR (text: a BERT-family encoder in a local "
     "Hugging Face folder)"},
    {"text-column",  RUN,      OPT_STR,    F(text_column), S(text_column), 0, 0, HASH_UNLESS_DEFAULT, NULL, "NAME|INDEX",
     "--model bert:DIR on a csv: the column of raw text (a name or 0-based index) the model reads as WordPiece "
     "tokens; the class column is then --label or the last other column"},
    {"max-tokens",   RUN | TP, OPT_INT,    F(max_tokens), 0, 2, DATASET_MAX_TOKENS, HASH_UNLESS_DEFAULT, "128", "N",
     "--model bert:DIR: each text becomes [CLS], its first N-2 WordPiece tokens, [SEP] (padded to N)"},
    {"finetune",     RUN,      OPT_STR,    F(finetune), S(finetune), 0, 0, HASH_UNLESS_DEFAULT, "none", "HOW",
     "bert: none (frozen: pooled vectors computed once, cached, and --head fitted on them), lora:R (adapters of rank "
     "R on every layer's query and value) or head+last:K (the last K layers' own weights), each with a classifier head"},
    {"pooling",      RUN,      OPT_STR,    F(pooling), S(pooling), 0, 0, HASH_UNLESS_DEFAULT, "cls", "P",
     "bert: a sequence's vector: cls (the [CLS] token's last hidden state) or mean (over its tokens)"},
    {"head",         RUN,      OPT_STR,    F(head), S(head), 0, 0, HASH_UNLESS_DEFAULT, "mlp", "M",
     "bert with --finetune none: the model fitted on the pooled vectors: mlp or logreg"},
    {"lora-alpha",   RUN,      OPT_DOUBLE, F(lora_alpha), 0, 1e-6, 1e6, HASH_UNLESS_DEFAULT, "8", "a",
     "bert with --finetune lora:R: the adapters' scale is a / R (PEFT's lora_alpha; its default 8)"},
    {"rounds",       RUN | TP, OPT_INT,    F(rounds), 0, 1, 1e6, 1, "20", "R", "acquisition rounds"},
    {"batch",        RUN | TP, OPT_INT,    F(batch), 0, 1, 1e7, 1, "10", "b", "rows queried per round"},
    {"init",         RUN | TP, OPT_INT,    F(init), 0, 1, 1e7, 1, "20", "n", "initial labeled rows, class-balanced"},
    {"seed",         RUN | TP, OPT_U64,    F(seed), 0, 0, 0, 0, "0", "s", "first seed"},
    {"seeds",        RUN,      OPT_INT,    F(seeds), 0, 1, 1e5, 0, "1", "N", "number of seeds: runs for seed s..s+N-1"},
    {"epochs",       RUN | TP, OPT_INT,    F(epochs), 0, 1, 1e6, 1, "50", "E", "training budget per round: epochs over the labeled set"},
    {"early-stop",   RUN,      OPT_INT,    F(early_stop), 0, 0, 1e6, HASH_UNLESS_DEFAULT, "0", "P",
     "fit epoch by epoch, at most --epochs, measuring the validation set (--val-size) after each; stop after P "
     "epochs without a better accuracy and keep the best epoch's model, as the code of Kirsch et al. 2019 (P = 3); "
     "the budget then differs between strategies (rounds.jsonl: steps_used); 0: none"},
    {"epoch-rows",   RUN | TP, OPT_INT,    F(epoch_rows), 0, 0, 1e7, HASH_UNLESS_DEFAULT, "0", "N",
     "an epoch draws N rows (passes of the labeled set repeated) while the labeled set is smaller, as the code of "
     "Kirsch et al. 2019 (N = 5056); 0: an epoch is one pass over the labeled set"},
    {"minibatch",    RUN | TP, OPT_INT,    F(minibatch), 0, 1, 1e6, 1, "64", "m", "rows per optimizer step"},
    {"hidden",       RUN | TP, OPT_HIDDEN, F(hidden), 0, 0, 1e6, 1, "512", "H[,H..]", "hidden layer widths (0: softmax regression); sparse data (text) without it: 64"},
    {"dropout",      RUN | TP, OPT_DOUBLE, F(dropout), 0, 0, 0.99, 1, "0.5", "p", "dropout after each hidden layer, [0, 0.99]; bert: before the classifier head (the MC samples)"},
    {"lr",           RUN | TP, OPT_DOUBLE, F(lr), 0, 1e-12, 10, 1, "0.001", "x", "AdamW learning rate"},
    {"weight-decay", RUN | TP, OPT_DOUBLE, F(weight_decay), 0, 0, 10, 1, "0.0001", "x", "AdamW decoupled weight decay"},
    {"l2-per-label", RUN | TP, OPT_DOUBLE, F(l2_per_label), 0, 0, 1e6, HASH_UNLESS_DEFAULT, "0", "c",
     "adds (c / labeled rows) x ||W||^2 to the loss, W the first dense layer's weights (the MLP's first layer, the "
     "CNN's dense layer), as the code of Gal et al. 2017 (c = 3.5); 0: none"},
    {"mc",           RUN | TP, OPT_INT,    F(mc), 0, 1, 1e5, 1, "20", "T", "MC-dropout samples for bald, var-ratios, mean-std, mc-entropy, albl's bald expert"},
    {"warm-start",   RUN | TP, OPT_FLAG,   F(warm_start), 0, 0, 1, 1, NULL, NULL, "fine-tune the previous round's model instead of retraining"},
    {"C",            RUN | TP, OPT_DOUBLE, F(logreg_c), 0, 1e-12, 1e12, HASH_UNLESS_DEFAULT, "1", "C",
     "logreg: inverse L2 strength, loss = sum of cross-entropy + ||W||^2/(2C), intercept not penalised (scikit-learn's C)"},
    {"max-iter",     RUN | TP, OPT_INT,    F(max_iter), 0, 1, 1e6, HASH_UNLESS_DEFAULT, "1000", "N",
     "logreg: L-BFGS iterations at most per round (its budget, the same for every strategy)"},
    {"tol",          RUN | TP, OPT_DOUBLE, F(tol), 0, 0, 1e6, HASH_UNLESS_DEFAULT, "0.0001", "g",
     "logreg: converged when no component of the loss's gradient exceeds g in size (scikit-learn's tol for lbfgs)"},
    {"cnn-layout",   RUN | TP, OPT_STR,    F(cnn_layout), S(cnn_layout), 0, 0, HASH_UNLESS_DEFAULT, "conv-conv-pool", "L",
     "cnn: conv-conv-pool (conv, ReLU, conv, ReLU, max-pool, dropout: Gal et al. 2017) or conv-pool-conv-pool "
     "(conv, ReLU, max-pool, channel dropout, twice: Kirsch et al. 2019's BatchBALD MNIST net)"},
    {"conv-filters", RUN | TP, OPT_INT,    F(conv_filters), 0, 1, 4096, HASH_UNLESS_DEFAULT, "32", "F",
     "cnn: kernels of the first convolution, and of the second unless --conv2-filters (Gal et al. 2017's text: 32)"},
    {"conv2-filters", RUN | TP, OPT_INT,   F(conv2_filters), 0, 0, 4096, HASH_UNLESS_DEFAULT, "0", "F2",
     "cnn: kernels of the second convolution (Kirsch et al. 2019: 64); 0: as --conv-filters"},
    {"kernel",       RUN | TP, OPT_INT,    F(kernel), 0, 1, 64, HASH_UNLESS_DEFAULT, "4", "k",
     "cnn: convolution kernels of k x k pixels, valid padding, stride 1 (the paper's text: 4)"},
    {"maxpool",      RUN | TP, OPT_INT,    F(maxpool), 0, 1, 64, HASH_UNLESS_DEFAULT, "2", "s",
     "cnn: max-pooling over s x s windows, stride s, after the convolutions (conv-pool-conv-pool: after each; the paper's text: 2)"},
    {"dense",        RUN | TP, OPT_INT,    F(dense), 0, 1, 1e6, HASH_UNLESS_DEFAULT, "128", "Dn",
     "cnn: units of the dense hidden layer, whose output is its embedding (the paper's text: 128)"},
    {"dropout-conv", RUN | TP, OPT_DOUBLE, F(dropout_conv), 0, 0, 0.99, HASH_UNLESS_DEFAULT, "0.25", "p",
     "cnn: dropout after the max-pooling, [0, 0.99]; conv-pool-conv-pool: of whole channels after each pooling "
     "(Gal et al.'s text: 0.25; Kirsch et al.: 0.5)"},
    {"dropout-dense", RUN | TP, OPT_DOUBLE, F(dropout_dense), 0, 0, 0.99, HASH_UNLESS_DEFAULT, "0.5", "p",
     "cnn: dropout after the dense layer, [0, 0.99] (the paper's text: 0.5)"},
    {"pool-size",    RUN,      OPT_INT,    F(pool_size), 0, 0, 1e9, 1, "0", "N", "use a seeded random subset of N pool rows (0: all)"},
    {"test-size",    RUN,      OPT_INT,    F(test_size), 0, 0, 1e9, 1, "0", "N", "use a seeded random subset of N test rows (0: all)"},
    {"pool-subset",  RUN,      OPT_INT,    F(pool_subset), 0, 0, 1e9, HASH_UNLESS_DEFAULT, "0", "N",
     "each round, score only N unlabeled rows drawn at random (seeded by seed and round) and pick among them, "
     "as the code of Gal et al. 2017 (N = 2000); 0: the whole pool"},
    {"val-size",     RUN,      OPT_INT,    F(val_size), 0, 0, 1e9, HASH_UNLESS_DEFAULT, "0", "N",
     "split N rows off the pool as a labeled validation set (seeded, stratified), never queried nor in the initial "
     "set, measured every round (curve.csv's val_ columns); 0: none"},
    {"reward-size",  RUN,      OPT_INT,    F(reward_size), 0, 0, 1e9, HASH_UNLESS_DEFAULT, "0", "N",
     "split N rows off the pool (seeded, stratified, after --val-size) as the reward split of --strategy teacher "
     "(label look-ahead, measurement only): never queried nor in the initial set, never the test set; the teacher's "
     "default is " STR(CONFIG_TEACHER_REWARD_ROWS) "; give other strategies the same N to pair them with it; 0: none"},
    {"noise",        RUN | TP, OPT_DOUBLE, F(noise), 0, 0, 1, 1, "0", "r", "oracle label-noise rate"},
    {"target",       RUN,      OPT_DOUBLE, F(target), 0, 0, 1, 0, "0", "acc", "accuracy target for labels-to-target (0: none)"},
    {"full-data",    RUN,      OPT_FLAG,   F(full_data), 0, 0, 1, 1, NULL, NULL, "train once on the whole pool: the accuracy ceiling"},
    {"device",       RUN | TP, OPT_STR,    F(device), S(device), 0, 0, 0, "auto", "D", "cpu, cuda or auto"},
    {"out",          RUN,      OPT_STR,    F(out), S(out), 0, 0, 0, "runs", "DIR", "output root; each run goes to DIR/<run-id>/"},
    {"force",        RUN,      OPT_FLAG,   F(force), 0, 0, 1, 0, NULL, NULL, "replace a finished run with the same id"},
    {"policy",       RUN,      OPT_STR,    F(policy), S(policy), 0, 0, HASH_UNLESS_DEFAULT, ALSIM_DEFAULT_POLICY, "FILE",
     "the rl strategy's trained policy (alsim train-policy); another file is another run id"},
    {"albl-pmin",    RUN,      OPT_DOUBLE, F(albl_pmin), 0, 0, 1, HASH_UNLESS_DEFAULT, "0", "p",
     "albl: the least probability Exp4.P follows each expert with, in (0, 1/E] for E experts; 0: libact's default "
     "sqrt(ln E / (E x rounds x batch))"},
    {"albl-delta",   RUN,      OPT_DOUBLE, F(albl_delta), 0, 1e-9, 1, HASH_UNLESS_DEFAULT, STR(ALBL_DEFAULT_DELTA), "d",
     "albl: Exp4.P's confidence parameter delta, in (0, 1] (libact's default)"},
    {"resume",       RUN,      OPT_FLAG,   F(resume), 0, 0, 1, 0, NULL, NULL, "continue a killed or interrupted run from its last complete round"},
    {"quiet",        RUN | TP, OPT_FLAG,   F(quiet), 0, 0, 1, 0, NULL, NULL, "no progress lines"},

    {"train",        TP, OPT_STR,    F(train), S(train), 0, 0, 0, NULL, "D1[+D2..]", "training datasets, joined by '+' (required); episodes cycle through them"},
    {"episodes",     TP, OPT_INT,    F(episodes), 0, 1, 1e7, 0, "200", "N", "episodes"},
    {"pool-size",    TP, OPT_INT,    F(pool_size), 0, 0, 1e9, 0, "0", "N", "pool rows of an episode, a random subset of the dataset's pool (0: as many as the smallest training pool less the reward split)"},
    {"reward-size",  TP, OPT_INT,    F(reward_size), 0, 10, 1e7, 0, "1000", "N", "rows of an episode's reward split, disjoint from its pool"},
    {"algo",         TP, OPT_STR,    F(algo), S(algo), 0, 0, 0, "dagger", "A",
     "dagger (imitate the look-ahead teacher's preferences among candidate batches) or reinforce"},
    {"dagger-every", TP, OPT_INT,    F(dagger_every), 0, 1, 1e6, 0, "1", "K",
     "dagger: the teacher refits its candidates at every K-th round of an episode (rounds r with (r + episode) % K = 0)"},
    {"dagger-beta",  TP, OPT_DOUBLE, F(dagger_beta), 0, 0, 1, 0, "0.9", "x",
     "dagger: episode e takes the teacher's best batch with probability x^e at those rounds, else the policy's"},
    {"reinforce-batch", TP, OPT_INT, F(reinforce_batch), 0, 1, 1e6, 0, "4", "E",
     "reinforce: one Adam step per E episodes, on their averaged gradient"},
    {"reward",       TP, OPT_STR,    F(reward), S(reward), 0, 0, 0, "accuracy", "R", "reinforce: accuracy (gain on the reward split) or loss (the picked rows' loss + loss-alpha log pi)"},
    {"loss-alpha",   TP, OPT_DOUBLE, F(loss_alpha), 0, 0, 100, 0, "0.1", "x", "the loss reward's weight of log pi"},
    {"policy-lr",    TP, OPT_DOUBLE, F(policy_lr), 0, 1e-9, 10, 0, "0.01", "x", "the policy's Adam step size"},
    {"entropy",      TP, OPT_DOUBLE, F(entropy), 0, 0, 100, 0, "0.01", "x", "entropy bonus"},
    {"out",          TP, OPT_STR,    F(out), S(out), 0, 0, 0, NULL, "FILE", "the policy file to write (required); FILE.state continues a killed training"},

    {"out",          CMD_REPORT, OPT_STR, F(out), S(out), 0, 0, 0, "results", "DIR", "where the report goes"},
    {"out",          CMD_BASELINE, OPT_STR, F(out), S(out), 0, 0, 0, NULL, "FILE", "the baseline file to write (required)"},
    {"baseline",     CMD_CHECK, OPT_STR, F(baseline), S(baseline), 0, 0, 0, NULL, "FILE", "the baseline written by alsim baseline (required)"},
    {"target",       STATS, OPT_DOUBLE, F(target), 0, 0, 1, 0, "0", "ACC",
     "accuracy target of labels-to-target (0: the runs' --target, else 0.9 x the full-data ceiling when a --full-data run is among RUNS)"},
    {"target-frac",  STATS, OPT_DOUBLE, F(target_frac), 0, 0, 1, 0, "0", "F",
     "target = F x the full-data ceiling (mean final accuracy of the dataset's --full-data runs among RUNS)"},
    {"alpha",        STATS | CMD_CHECK, OPT_DOUBLE, F(alpha), 0, 1e-9, 0.5, 0, "0.05", "A", "significance level of the verdicts"},
    {"reference",    STATS, OPT_STR, F(reference), S(reference), 0, 0, 0, "random", "S", "the strategy savings are measured against"},
    {"resamples",    CMD_REPORT, OPT_INT, F(resamples), 0, 100, 1e7, 0, "10000", "B", "paired bootstrap resamples"},
    {"paper",        CMD_REPORT, OPT_STR, F(paper), S(paper), 0, 0, 0, NULL, "NAME",
     "first table: the labels each strategy acquired to reach the paper's accuracy levels, beside the published "
     "figures (gal2017: Gal et al. 2017, Table 1; batchbald: Kirsch et al. 2019, Table 1)"},
    {"resamples",    CMD_BASELINE | CMD_CHECK, OPT_INT, F(resamples), 0, 100, 1e7, 0, "100", "B", "paired bootstrap resamples (not recorded)"},
    {"seed",         STATS, OPT_U64, F(seed), 0, 0, 0, 0, "0", "S", "seed of the bootstrap"},
    {"logx",         STATS, OPT_FLAG, F(logx), 0, 0, 1, 0, NULL, NULL, "log-scaled label axis in the learning curves"},
    {"tolerance",    CMD_CHECK, OPT_DOUBLE, F(tolerance), 0, 0, 1, 0, "0.005", "T", "AULC drop that is not a regression"},
    {"tolerance-labels", CMD_CHECK, OPT_DOUBLE, F(tolerance_labels), 0, -1, 1e12, 0, "-1", "N",
     "labels-to-target rise that is not a regression (-1: one query batch of the group)"},
    {"against",      CMD_CHECK, OPT_STR, F(against), S(against), 0, 0, 0, NULL, "NEW=BASE",
     "compare the runs of strategy NEW with the baseline of strategy BASE (e.g. a rewritten strategy against the old one's baseline)"},
};
#undef F
#undef S
enum { N_OPTIONS = sizeof options / sizeof options[0] };

static int set_option(Config *c, const Option *o, const char *s, char *why, size_t whylen);

void config_defaults(Config *c, Command cmd) {
    memset(c, 0, sizeof *c);
    char why[256];
    for (int i = 0; i < N_OPTIONS; i++)
        if ((options[i].cmds & cmd) && options[i].dflt && set_option(c, &options[i], options[i].dflt, why, sizeof why))
            abort();    /* a default of the table that does not parse: tests/test_config.c */
    c->hidden_set = 0;
}

/* Option names match with '-' and '_' treated alike. */
static int same_name(const char *a, const char *b, size_t blen) {
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
        if (x != y) return 0;
    }
    return a[i] == 0 && i == blen;
}

static const Option *find_option(int cmds, const char *name, size_t len) {
    for (int i = 0; i < N_OPTIONS; i++)
        if ((options[i].cmds & cmds) && same_name(options[i].name, name, len)) return &options[i];
    return NULL;
}

const char *config_command_name(Command cmd) {
    switch (cmd) {
    case CMD_TRAIN_POLICY: return "train-policy";
    case CMD_REPORT: return "report";
    case CMD_BASELINE: return "baseline";
    case CMD_CHECK: return "check";
    default: return "run";
    }
}

/* "alsim --help" or "alsim CMD --help". */
static const char *help_of(Command cmd) {
    switch (cmd) {
    case CMD_TRAIN_POLICY: return "alsim train-policy --help";
    case CMD_REPORT: return "alsim report --help";
    case CMD_BASELINE: return "alsim baseline --help";
    case CMD_CHECK: return "alsim check --help";
    default: return "alsim --help";
    }
}

/* "0" (softmax regression) or widths "H1,H2,..": digits only, no blanks, no empty item. */
static int parse_hidden(Config *c, const char *s, char *why, size_t whylen) {
    int n = 0;
    if (strcmp(s, "0") == 0) { c->n_hidden = 0; return 0; }
    for (const char *p = s;; p++) {
        if (!isdigit((unsigned char)*p)) {
            snprintf(why, whylen, "'%s' is not 0 or a comma-separated list of widths such as 512 or 256,128", s);
            return -1;
        }
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || v < 1 || v > 1000000) {
            snprintf(why, whylen, "width %.*s is not in [1, 1000000]", (int)(end - p), p);
            return -1;
        }
        if (n == LEARNER_MAX_HIDDEN) {
            snprintf(why, whylen, "at most %d hidden layers", LEARNER_MAX_HIDDEN);
            return -1;
        }
        c->hidden[n++] = (int)v;
        p = end;
        if (!*p) break;
        if (*p != ',') {
            snprintf(why, whylen, "'%s' is not 0 or a comma-separated list of widths such as 512 or 256,128", s);
            return -1;
        }
    }
    c->n_hidden = n;
    return 0;
}

/* Sets option o from text s. Returns 0, or -1 with the reason in why. */
static int set_option(Config *c, const Option *o, const char *s, char *why, size_t whylen) {
    char *base = (char *)c + o->offset, *end;
    errno = 0;
    if ((o->type == OPT_INT || o->type == OPT_U64 || o->type == OPT_DOUBLE) && isspace((unsigned char)*s)) {
        snprintf(why, whylen, "'%s' has a blank before the number", s);
        return -1;
    }
    switch (o->type) {
    case OPT_INT: {
        long v = strtol(s, &end, 10);
        if (end == s || *end || errno || v < o->min || v > o->max) {
            snprintf(why, whylen, "'%s' is not an integer in [%.0f, %.0f]", s, o->min, o->max);
            return -1;
        }
        *(int *)base = (int)v;
        return 0;
    }
    case OPT_U64: {
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || *end || errno || *s == '-') {
            snprintf(why, whylen, "'%s' is not a non-negative integer", s);
            return -1;
        }
        *(uint64_t *)base = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v = strtod(s, &end);
        if (end == s || *end || errno || !isfinite(v) || v < o->min || v > o->max) {
            snprintf(why, whylen, "'%s' is not a number in [%g, %g]", s, o->min, o->max);
            return -1;
        }
        *(double *)base = v;   /* cppcheck-suppress invalidPointerCast ; base points at a double field */
        return 0;
    }
    case OPT_STR:
        if (strlen(s) >= o->size) { snprintf(why, whylen, "longer than %zu characters", o->size - 1); return -1; }
        if (!*s && o->dflt) { snprintf(why, whylen, "empty"); return -1; }   /* "" = none where none is the default */
        strcpy(base, s);
        return 0;
    case OPT_FLAG:
        if (!strcmp(s, "1") || !strcmp(s, "true")) { *(int *)base = 1; return 0; }
        if (!strcmp(s, "0") || !strcmp(s, "false")) { *(int *)base = 0; return 0; }
        snprintf(why, whylen, "'%s' is not true or false", s);
        return -1;
    case OPT_HIDDEN:
        c->hidden_set = 1;
        return parse_hidden(c, s, why, whylen);
    }
    return -1;
}

/* The line of occurrence nth (0: the first) of "key" in text, for messages about a JSON
 * member. */
static int line_of_key(const char *text, const char *key, int nth) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    for (; p && nth > 0; nth--) p = strstr(p + 1, pat);
    int line = 1;
    if (!p) return 1;
    for (const char *q = text; q < p; q++) line += *q == '\n';
    return line;
}

int config_load_json(Config *c, Command cmd, const char *path, char *err, size_t errlen) {
    char *text;
    size_t n;
    int read_rc = util_read_file(&text, &n, path, err, errlen);
    if (read_rc) return read_rc;

    int rc = 0;
    const char *end = NULL;
    cJSON *root = strlen(text) == n ? cJSON_ParseWithOpts(text, &end, 0) : NULL;
    if (root) while (isspace((unsigned char)*end)) end++;
    if (!root || *end) {
        const char *at = root ? end : strlen(text) == n ? cJSON_GetErrorPtr() : text + strlen(text);
        int line = 1;
        for (const char *q = text; at && q < at && *q; q++) line += *q == '\n';
        snprintf(err, errlen, "%s: line %d: %s", path, line, root ? "something after the JSON object" :
                 strlen(text) != n ? "a NUL byte: not a JSON text" : "malformed JSON");
        rc = ALSIM_BAD_INPUT;
    } else if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: line 1: a config is a JSON object of option names", path);
        rc = ALSIM_BAD_INPUT;
    } else {
        for (cJSON *it = root->child; it && !rc; it = it->next) {
            const Option *o = find_option(cmd, it->string, strlen(it->string));
            char val[1100], why[256];
            int line = line_of_key(text, it->string, 0);
            for (cJSON *prev = root->child; prev != it && !rc; prev = prev->next)
                if (same_name(prev->string, it->string, strlen(it->string))) {
                    snprintf(err, errlen, "%s: line %d: \"%s\" given twice (also as \"%s\")", path,
                             line_of_key(text, it->string, !strcmp(prev->string, it->string)), it->string, prev->string);
                    rc = ALSIM_BAD_INPUT;
                }
            if (rc) break;
            if (!o) {
                snprintf(err, errlen, "%s: line %d: unknown option \"%s\" (%s lists them)", path, line, it->string, help_of(cmd));
                rc = ALSIM_BAD_INPUT;
                break;
            }
            if (cJSON_IsString(it)) snprintf(val, sizeof val, "%s", it->valuestring);
            else if (cJSON_IsBool(it)) snprintf(val, sizeof val, "%s", cJSON_IsTrue(it) ? "true" : "false");
            else if (cJSON_IsNumber(it)) {
                /* Integers are printed as integers so strtol accepts them; others exactly. */
                if (o->type == OPT_U64 && fabs(it->valuedouble) > 9007199254740992.0) {
                    snprintf(err, errlen, "%s: line %d: \"%s\": %.17g is beyond 2^53, where JSON numbers lose digits: "
                             "write it as a string", path, line, it->string, it->valuedouble);
                    rc = ALSIM_BAD_INPUT;
                    break;
                }
                if (o->type == OPT_DOUBLE) snprintf(val, sizeof val, "%.17g", it->valuedouble);
                else if (it->valuedouble == floor(it->valuedouble) && fabs(it->valuedouble) < 1e18)
                    snprintf(val, sizeof val, "%.0f", it->valuedouble);
                else snprintf(val, sizeof val, "%.17g", it->valuedouble);
            } else if (cJSON_IsArray(it) && o->type == OPT_HIDDEN) {
                size_t len = 0;
                snprintf(val, sizeof val, "0");     /* []: no hidden layer */
                for (cJSON *e = it->child; e && len < sizeof val; e = e->next) {
                    if (!cJSON_IsNumber(e)) { snprintf(val, sizeof val, "x"); break; }
                    len += snprintf(val + len, sizeof val - len, "%s%.17g", len ? "," : "", e->valuedouble);
                }
            } else {
                snprintf(err, errlen, "%s: line %d: \"%s\" has a value of the wrong type", path, line, it->string);
                rc = ALSIM_BAD_INPUT;
                break;
            }
            if (set_option(c, o, val, why, sizeof why)) {
                snprintf(err, errlen, "%s: line %d: \"%s\": %s", path, line, it->string, why);
                rc = ALSIM_BAD_INPUT;
            }
        }
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

int config_help_asked(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int config_parse_args(Config *c, Command cmd, int argc, char **argv, char **paths, int *npaths,
                      char *err, size_t errlen) {
    /* -c FILE first, so the command line overrides it wherever it stands. */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) { snprintf(err, errlen, "%s needs a FILE", argv[i]); return ALSIM_BAD_INPUT; }
            int rc = config_load_json(c, cmd, argv[i + 1], err, errlen);
            if (rc) return rc;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) { i++; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) continue;
        if (strncmp(a, "--", 2) != 0) {
            if (paths && a[0] != '-') { paths[(*npaths)++] = argv[i]; continue; }
            snprintf(err, errlen, "unexpected argument '%s' (options start with --; %s)", a, help_of(cmd));
            return ALSIM_BAD_INPUT;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int negate = 0;
        const Option *o = find_option(cmd, name, len);
        if (!o && len > 3 && !strncmp(name, "no-", 3)) {
            o = find_option(cmd, name + 3, len - 3);
            negate = o && o->type == OPT_FLAG;
            if (!negate) o = NULL;
        }
        if (!o) {
            if (cmd == CMD_RUN) snprintf(err, errlen, "unknown option '--%.*s' (alsim --help lists them)", (int)len, name);
            else snprintf(err, errlen, "%s: unknown option '--%.*s' (%s lists them)", config_command_name(cmd), (int)len, name, help_of(cmd));
            return ALSIM_BAD_INPUT;
        }
        const char *val;
        if (o->type == OPT_FLAG && !eq) val = negate ? "false" : "true";
        else if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else { snprintf(err, errlen, "--%s needs a value (%s)", o->name, o->arg); return ALSIM_BAD_INPUT; }
        char why[256];
        if (set_option(c, o, val, why, sizeof why)) {
            snprintf(err, errlen, "--%s: %s", o->name, why);
            return ALSIM_BAD_INPUT;
        }
    }
    return ALSIM_OK;
}

int config_check(const Config *c, Command cmd, char *err, size_t errlen) {
    const char *need = NULL;    /* a required option left out */
    if (cmd == CMD_TRAIN_POLICY && !*c->train) need = "--train D1[+D2..]";
    else if ((cmd == CMD_TRAIN_POLICY || cmd == CMD_BASELINE) && !*c->out) need = "--out FILE";
    else if (cmd == CMD_CHECK && !*c->baseline) need = "--baseline FILE";
    if (need) {
        snprintf(err, errlen, "%s needs %s (%s)", config_command_name(cmd), need, help_of(cmd));
        return ALSIM_BAD_INPUT;
    }
    if (cmd & (CMD_RUN | CMD_TRAIN_POLICY)) {
        if (!model_find(c->model)) {
            snprintf(err, errlen, "--model: unknown model '%.300s' (alsim --help lists them)", c->model);
            return ALSIM_BAD_INPUT;
        }
        if (!model_folder(c) && (*c->text_column || c->max_tokens != 128)) {
            snprintf(err, errlen, "--%s makes token rows for a language model: it applies to --model bert:DIR only",
                     *c->text_column ? "text-column" : "max-tokens");
            return ALSIM_BAD_INPUT;
        }
        if (c->l2_per_label > 0 && !strcmp(c->model, "logreg")) {
            snprintf(err, errlen, "--l2-per-label is a penalty on a network's first dense layer; --model logreg has "
                     "its own L2 strength, --C");
            return ALSIM_BAD_INPUT;
        }
        if (c->early_stop > 0 && !strcmp(c->model, "logreg")) {
            snprintf(err, errlen, "--early-stop stops minibatch training between epochs; --model logreg is fitted to "
                     "convergence (--max-iter, --tol)");
            return ALSIM_BAD_INPUT;
        }
        if (c->early_stop > 0 && c->val_size <= 0) {
            snprintf(err, errlen, "--early-stop %d measures a validation set after each epoch: add --val-size N "
                     "(Kirsch et al. 2019: 1024)", c->early_stop);
            return ALSIM_BAD_INPUT;
        }
        if (c->epoch_rows > 0 && !strcmp(c->model, "logreg")) {
            snprintf(err, errlen, "--epoch-rows sets the epochs of minibatch training; --model logreg is fitted to "
                     "convergence (--max-iter, --tol)");
            return ALSIM_BAD_INPUT;
        }
        if (cmd == CMD_TRAIN_POLICY && model_folder(c)) {
            snprintf(err, errlen, "train-policy does not run language models (--model %.300s): its episodes fit mlp, "
                     "logreg or cnn", c->model);
            return ALSIM_BAD_INPUT;
        }
        /* The bert options are run rows only: train-policy has none to check (and no bert). */
        int rc = cmd == CMD_RUN ? bert_check_options(c, err, errlen) : 0;
        if (rc) return rc;
        if (strcmp(c->cnn_layout, "conv-conv-pool") && strcmp(c->cnn_layout, "conv-pool-conv-pool")) {
            snprintf(err, errlen, "--cnn-layout: '%s' is not conv-conv-pool or conv-pool-conv-pool", c->cnn_layout);
            return ALSIM_BAD_INPUT;
        }
        if (strcmp(c->device, "cpu") && strcmp(c->device, "cuda") && strcmp(c->device, "auto")) {
            snprintf(err, errlen, "--device: '%s' is not cpu, cuda or auto", c->device);
            return ALSIM_BAD_INPUT;
        }
    }
    if (cmd == CMD_TRAIN_POLICY) {
        if (strcmp(c->algo, "dagger") && strcmp(c->algo, "reinforce")) {
            snprintf(err, errlen, "--algo: '%s' is not dagger or reinforce", c->algo);
            return ALSIM_BAD_INPUT;
        }
        if (strcmp(c->reward, "accuracy") && strcmp(c->reward, "loss")) {
            snprintf(err, errlen, "--reward: '%s' is not accuracy or loss", c->reward);
            return ALSIM_BAD_INPUT;
        }
        const Strategy *rl = strategy_find("rl");   /* what train-policy trains */
        int rc = rl ? model_check(c, rl->name, rl->needs, err, errlen) : 0;
        if (rc) return rc;
    }
    if (cmd != CMD_RUN) return ALSIM_OK;
    if (!c->full_data && !strategy_find(c->strategy)) {
        snprintf(err, errlen, "--strategy: unknown strategy '%s' (alsim --list shows them)", c->strategy);
        return ALSIM_BAD_INPUT;
    }
    const Strategy *st = c->full_data ? NULL : strategy_find(c->strategy);
    if (st) {       /* a model that cannot give the strategy what it scores with */
        int rc = model_check(c, st->name, st->needs, err, errlen);
        if (rc) return rc;
        if (!strcmp(st->name, "albl") &&    /* Exp4.P's pmin for its experts and query budget */
            (rc = albl_check(c->albl_pmin, c->albl_delta, albl_experts(model_has_mc(c)), (long)c->rounds * c->batch,
                             err, errlen)))
            return rc;
        if ((st->mc_min && c->mc < st->mc_min) || (st->mc_max && c->mc > st->mc_max)) {
            snprintf(err, errlen, "--mc %d: --strategy %s takes %d to %d MC samples: %s", c->mc, st->name,
                     st->mc_min, st->mc_max, st->mc_why);
            return ALSIM_BAD_INPUT;
        }
    }
    if (st && st->hooks) {      /* rl: a policy that loads */
        void *state = NULL;
        int rc = st->hooks->open(&state, c->policy, 1, err, errlen);
        if (rc) return rc;
        st->hooks->close(state);
    }
    /* Ranges were checked as each value was set; these are the cross-field rules. */
    if (!c->full_data && c->pool_subset && c->pool_subset < c->batch) {
        snprintf(err, errlen, "--pool-subset %d is smaller than --batch %d: each round picks its batch among the "
                 "subset's rows", c->pool_subset, c->batch);
        return ALSIM_BAD_INPUT;
    }
    if (c->seed + (uint64_t)c->seeds - 1 < c->seed) {
        snprintf(err, errlen, "--seed %llu with --seeds %d overflows", (unsigned long long)c->seed, c->seeds);
        return ALSIM_BAD_INPUT;
    }
    return ALSIM_OK;
}

void config_complete(Config *c) {
    const Strategy *st = c->full_data ? NULL : strategy_find(c->strategy);
    if (st && (st->needs & NEEDS_LOOKAHEAD) && c->reward_size == 0) c->reward_size = CONFIG_TEACHER_REWARD_ROWS;
}

void config_adapt(Config *c, int sparse_input) {
    if (!sparse_input || c->hidden_set) return;
    c->n_hidden = 1;
    c->hidden[0] = CONFIG_SPARSE_HIDDEN;
}

/* What each subcommand does, for its --help (run's is main.c's, with the command list). */
static const struct { Command cmd; const char *synopsis, *about; } usages[] = {
    {CMD_TRAIN_POLICY, "alsim train-policy --train D1[+D2..] --episodes N --out FILE [options]",
     "Trains the rl strategy's policy on simulated AL episodes: runs of the rl strategy on the\n"
     "engine `alsim run` uses, with the same model, budget and features for the same options,\n"
     "on random subsets of the training datasets' pools. --algo dagger (the default) imitates a\n"
     "look-ahead teacher: at sampled rounds the model is refitted on each candidate batch and\n"
     "measured on a reward split; the policy is fitted to the teacher's preferences. --algo\n"
     "reinforce draws batches from the policy and follows the accuracy gain. Resumes a killed\n"
     "training when started again with the same options."},
    {CMD_REPORT, "alsim report RUNS... [options]",
     "Statistics across seeds for every (dataset, strategy) among RUNS (run folders, or folders\n"
     "with run folders at any depth below them; links below them are not followed): per-round\n"
     "mean, sd and 95% t-interval of accuracy and macro-F1; normalised AULC; labels-to-target;\n"
     "savings against the reference strategy with paired bootstrap intervals;\n"
     "paired t and Wilcoxon tests (Holm-corrected) and a win/tie/loss matrix. Writes summary.md,\n"
     "summary.json and figures (PNG and SVG, with their data and gnuplot scripts) into DIR.\n"
     "Runs of one dataset must share one config (except seed and strategy)."},
    {CMD_BASELINE, "alsim baseline RUNS... --out FILE [options]",
     "Records, per (dataset, strategy) among RUNS, the per-seed normalised AULC and\n"
     "labels-to-target with the config the runs share, for alsim check. The target is chosen\n"
     "as alsim report chooses it (alsim report --help). Diverged runs are left out, with a warning."},
    {CMD_CHECK, "alsim check RUNS... --baseline FILE [options]",
     "Compares the runs with a baseline written by alsim baseline. A regression is a drop in\n"
     "normalised AULC, or a rise in labels-to-target, larger than the tolerance and significant\n"
     "at alpha in a one-sided test (paired t when the runs have the baseline's seeds, Welch's t\n"
     "otherwise), or a diverged run. Prints a table. Exit codes: 0 no regression, 1 regression,\n"
     "2 bad input or a config that differs from the baseline's."},
};

void config_print_usage(FILE *f, const Config *c, Command cmd) {
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        if (usages[i].cmd == cmd) fprintf(f, "usage: %s\n\n%s\n\noptions [defaults]:\n", usages[i].synopsis, usages[i].about);
    config_print_options(f, c, cmd);
}

/* The value of option o in c as text (for --help and the config hash). */
static void option_text(char *buf, size_t len, const Config *c, const Option *o) {
    const char *base = (const char *)c + o->offset;
    switch (o->type) {
    case OPT_INT: snprintf(buf, len, "%d", *(const int *)base); break;
    case OPT_U64: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)base); break;
    case OPT_DOUBLE: {
        char t[32];
        fmt_double(t, *(const double *)base);   /* cppcheck-suppress invalidPointerCast */
        snprintf(buf, len, "%s", t);
        break;
    }
    case OPT_STR: snprintf(buf, len, "%s", base); break;
    case OPT_FLAG: snprintf(buf, len, "%s", *(const int *)base ? "true" : "false"); break;
    case OPT_HIDDEN: {
        size_t n = 0;
        buf[0] = 0;
        if (c->n_hidden == 0) snprintf(buf, len, "0");
        for (int i = 0; i < c->n_hidden && n < len; i++)
            n += snprintf(buf + n, len - n, "%s%d", i ? "," : "", c->hidden[i]);
        break;
    }
    }
}

void config_print_options(FILE *f, const Config *c, Command cmd) {
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        if (!(o->cmds & cmd)) continue;
        char flag[64], val[1100];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        option_text(val, sizeof val, c, o);
        fprintf(f, "  %-22s %s", flag, o->help);
        if (o->type == OPT_FLAG) fprintf(f, "%s\n", *(const int *)((const char *)c + o->offset) ? " (on)" : "");
        else if (o->type == OPT_STR && !*val) fprintf(f, "\n");
        else fprintf(f, " [%s]\n", val);
    }
}

void config_write_json(JsonW *w, const Config *c, Command cmd) {
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        if (!(o->cmds & cmd)) continue;
        const char *base = (const char *)c + o->offset;
        char key[64];
        snprintf(key, sizeof key, "%s", o->name);
        for (char *p = key; *p; p++) if (*p == '-') *p = '_';
        jw_key(w, key);
        switch (o->type) {
        case OPT_INT: jw_int(w, *(const int *)base); break;
        case OPT_U64: jw_int(w, (int64_t)*(const uint64_t *)base); break;
        case OPT_DOUBLE: jw_num(w, *(const double *)base); break;   /* cppcheck-suppress invalidPointerCast */
        case OPT_STR: jw_str(w, base); break;
        case OPT_FLAG: jw_bool(w, *(const int *)base); break;
        case OPT_HIDDEN:
            jw_array(w);
            for (int h = 0; h < c->n_hidden; h++) jw_int(w, c->hidden[h]);
            jw_end(w);
            break;
        }
    }
}

int config_key_known(const char *key) {
    return find_option(CMD_RUN, key, strlen(key)) != NULL;
}

int config_key_affects_results(const char *key) {
    const Option *o = find_option(CMD_RUN, key, strlen(key));
    return o && o->affects_results;
}

void config_hash(char out[9], const Config *c) {
    uint64_t h = UTIL_FNV_START;    /* FNV-1a over "name=value;" of result-changing run options */
    Config dflt;
    config_defaults(&dflt, CMD_RUN);
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        if (!(o->cmds & CMD_RUN) || !o->affects_results) continue;
        char val[1200], at_default[1200];
        snprintf(val, sizeof val, "%s=", o->name);
        size_t n = strlen(val);
        option_text(val + n, sizeof val - n, c, o);
        option_text(at_default, sizeof at_default, &dflt, o);
        if (o->affects_results == HASH_UNLESS_DEFAULT && !strcmp(val + n, at_default)) continue;
        strcat(val, ";");
        h = util_fnv1a(h, val, strlen(val));
    }
    snprintf(out, 9, "%08x", (unsigned)(h ^ (h >> 32)));
}
