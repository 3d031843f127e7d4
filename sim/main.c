/* alsim — the command line. Parses options, loads the data for each seed, runs, and turns
 * every failure into one line on stderr and an exit code (DESIGN.md §5): 0 success, 2 usage
 * or bad input, 3 runtime failure. Only this file exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "reports/reports.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/embed.h"
#include "sim/engine.h"
#include "sim/model.h"
#include "sim/run.h"
#include "sim/signals.h"
#include "sim/train_policy.h"
#include "sim/util.h"
#include "strategies/strategy.h"

static void usage(FILE *f, const Config *defaults) {
    fprintf(f,
        "alsim — active-learning simulation and benchmarking\n"
        "\n"
        "usage: alsim [run] [options]          run active learning, one run per seed\n"
        "       alsim --list                   the query strategies\n"
        "       alsim datasets                 the dataset catalog and what is cached\n"
        "       alsim datasets fetch NAME      fetch a catalogued dataset into the cache\n"
        "       alsim report RUNS... [--out DIR]  statistics across seeds, summary.md and figures\n"
        "       alsim baseline RUNS... --out FILE record the metrics the regression gate compares\n"
        "       alsim check RUNS... --baseline FILE  the regression gate (exit 1: regression)\n"
        "       alsim train-policy --train D+.. --episodes N --out FILE   train the rl strategy's policy\n"
        "       alsim --help | --version\n"
        "\n"
        "A run replays a fully labeled dataset: it starts from a class-balanced labeled set,\n"
        "then each round trains the model on the labeled rows (the same budget for every\n"
        "strategy), measures it on the test set, and queries the b pool rows the strategy\n"
        "scores highest. Results go to OUT/<dataset>-<model>-<strategy>-seed<s>-<config hash>/.\n"
        "\n"
        "options (current defaults in brackets):\n"
        "  -c FILE                JSON config; its keys are option names; the command line wins\n");
    config_print_options(f, defaults, CMD_RUN);
    fprintf(f, "\nstrategies (--strategy S; alsim --list says what each needs and its paper):\n ");
    int n_st, width = 1;
    const Strategy *all = strategy_all(&n_st);
    for (int i = 0; i < n_st; i++) {
        const int len = (int)strlen(all[i].name) + (i + 1 < n_st);
        if (width + 1 + len > 90) { fprintf(f, "\n "); width = 1; }
        width += fprintf(f, " %s%s", all[i].name, i + 1 < n_st ? "," : "");
    }
    fprintf(f,
        "\n"
        "\n"
        "environment: ALSIM_DATA  dataset cache [%s]\n"
        "exit codes: 0 ok, 2 usage or bad input, 3 runtime failure (no device, out of memory,\n"
        "            unwritable output, every seed diverged)\n",
        dataset_cache_dir());
}

static int fail(int code, const char *msg) {
    fprintf(stderr, "alsim: %s\n", msg);
    return code;
}

static int cmd_datasets(int argc, char **argv) {
    char err[1024];
    if (argc == 0) { catalog_print(); return 0; }
    if (argc == 2 && !strcmp(argv[0], "fetch")) {
        Dataset pool = {0}, test = {0};
        int rc = catalog_open(&pool, &test, argv[1], 0, err, sizeof err);
        if (rc == -1) {
            snprintf(err, sizeof err, "datasets fetch: '%s' is not in the catalog (alsim datasets lists it)", argv[1]);
            return fail(ALSIM_BAD_INPUT, err);
        }
        if (rc) return fail(rc, err);
        printf("%s: %d pool rows, %d test rows, %d features, %d classes, sha256 %s\n",
               pool.name, pool.n, test.n, pool.d, pool.k, pool.sha256);
        dataset_free(&pool);
        dataset_free(&test);
        return 0;
    }
    return fail(ALSIM_BAD_INPUT, "usage: alsim datasets [fetch NAME]");
}

/* Loads the data of one seed: the spec (token rows for --model bert:DIR, tokenized by DIR's
 * vocab.txt and tokenizer_config.json), then the optional subsets, then --standardize, then
 * the validation rows (--val-size) and the reward split (--reward-size) split off the pool
 * (val and reward stay empty without them). */
static int load_data(Dataset *pool, Dataset *test, Dataset *val, Dataset *reward, const Config *c, uint64_t seed,
                     char *err, size_t errlen) {
    DatasetOptions opt = { .label = c->label, .test = c->test, .test_frac = c->test_frac,
                           .text_column = c->text_column, .max_tokens = c->max_tokens };
    WordPiece wp = {0};
    int rc = 0;
    if (model_folder(c)) {      /* a language model reads token rows */
        rc = wp_open_dir(&wp, model_folder(c), err, errlen);
        opt.wp = &wp;
    }
    if (!rc) rc = dataset_open_with(pool, test, c->dataset, &opt, seed, err, errlen);
    wp_close(&wp);
    /* A subset as large as the data would silently be all of it: refused, not capped. */
    if (!rc && (c->pool_size > pool->n || c->test_size > test->n)) {
        const int pool_over = c->pool_size > pool->n;
        snprintf(err, errlen, "--%s %d: %s has only %d %s rows (0 takes them all)", pool_over ? "pool-size" : "test-size",
                 pool_over ? c->pool_size : c->test_size, pool->name, pool_over ? pool->n : test->n,
                 pool_over ? "pool" : "test");
        rc = ALSIM_BAD_INPUT;
    }
    if (!rc && c->pool_size) rc = dataset_subsample(pool, c->pool_size, seed, err, errlen);
    if (!rc && c->test_size) rc = dataset_subsample(test, c->test_size, seed ^ 0x7e57u, err, errlen);
    /* z-scores of the pool the run uses (after --pool-size), never of the test set; the
     * validation rows, split off next, get the same (their features count in the statistics,
     * never their labels) */
    if (!rc && c->standardize) rc = dataset_standardize(pool, test, err, errlen);
    if (!rc && c->val_size >= pool->n) {
        snprintf(err, errlen, "--val-size %d: %s has only %d pool rows%s", c->val_size, pool->name, pool->n,
                 c->pool_size ? " after --pool-size" : "");
        rc = ALSIM_BAD_INPUT;
    }
    if (!rc && c->val_size) rc = dataset_split_off(val, pool, c->val_size, seed, err, errlen);
    if (!rc && c->reward_size >= pool->n) {
        snprintf(err, errlen, "--reward-size %d: %s has only %d pool rows%s%s", c->reward_size, pool->name, pool->n,
                 c->pool_size ? " after --pool-size" : "", c->val_size ? " after --val-size" : "");
        rc = ALSIM_BAD_INPUT;
    }
    if (!rc && c->reward_size) rc = dataset_split_reward(reward, pool, c->reward_size, seed, err, errlen);
    if (rc) { dataset_free(pool); dataset_free(test); dataset_free(val); dataset_free(reward); }
    return rc;
}

/* alsim [run] [options]: one run per seed. */
static int cmd_run(int argc, char **argv) {
    Config cfg;
    config_defaults(&cfg, CMD_RUN);
    char err[2048];
    int rc = config_parse_args(&cfg, CMD_RUN, argc, argv, NULL, NULL, err, sizeof err);
    if (!rc && config_help_asked(argc, argv)) {     /* the usage with the live defaults */
        usage(stdout, &cfg);
        return ALSIM_OK;
    }
    if (!rc) rc = config_check(&cfg, CMD_RUN, err, sizeof err);
    if (rc) return fail(rc, err);
    config_complete(&cfg);      /* e.g. the teacher's reward split */
    const Strategy *st = cfg.full_data ? NULL : strategy_find(cfg.strategy);

    const Backend *be = backend_get(cfg.device, err, sizeof err);
    if (!be) return fail(ALSIM_RUNTIME, err);
    signals_install();

    int ok = 0, diverged = 0;
    for (int s = 0; s < cfg.seeds; s++) {
        uint64_t seed = cfg.seed + (uint64_t)s;
        Dataset pool = {0}, test = {0}, val = {0}, reward = {0};
        rc = load_data(&pool, &test, &val, &reward, &cfg, seed, err, sizeof err);
        if (!rc && model_is_frozen_encoder(&cfg)) {     /* --finetune none: token rows become pooled vectors */
            Dataset *const parts[] = {&pool, &test, &val, &reward};
            if ((rc = embed_datasets(parts, 4, &cfg, be, err, sizeof err))) {
                dataset_free(&pool); dataset_free(&test); dataset_free(&val); dataset_free(&reward);
            }
        }
        if (!rc && (rc = session_check_sizes(&cfg, &pool, err, sizeof err))) {
            dataset_free(&pool); dataset_free(&test); dataset_free(&val); dataset_free(&reward);
        }
        if (rc) return fail(rc, err);
        config_adapt(&cfg, pool.x == NULL);     /* e.g. a smaller hidden layer for text */
        if (s == 0 && !cfg.quiet) {
            char val_rows[64] = "";
            if (val.n) snprintf(val_rows, sizeof val_rows, ", validation %d", val.n);
            if (reward.n)
                snprintf(val_rows + strlen(val_rows), sizeof val_rows - strlen(val_rows), ", reward split %d", reward.n);
            fprintf(stderr, "alsim: %s: pool %d, test %d%s, %d %s, %d classes; device %s%s%s%s\n",
                    pool.name, pool.n, test.n, val_rows, pool.d, pool.text_tokens ? "tokens a row" : "features", pool.k, be->name,
                    be->device ? " (" : "", be->device ? be->device : "", be->device ? ")" : "");
        }
        if (s == 0) dataset_print_choices(stderr, &pool, cfg.quiet);   /* the class column, dropped classes */
        if (s == 0 && st && (st->needs & NEEDS_LOOKAHEAD))     /* said even with --quiet */
            fprintf(stderr, "alsim: note: --strategy %s is LABEL LOOK-AHEAD, for measurement only: each round it refits "
                    "the model on every candidate batch with labels it has not queried and keeps the best on the reward "
                    "split (%d rows); those refits are extra cost, outside the budget ledger (rounds.jsonl: "
                    "\"lookahead\")\n", st->name, reward.n);
        if (s == 0 && !cfg.full_data && cfg.init < pool.k)     /* said even with --quiet */
            fprintf(stderr, "alsim: note: --init %d is below the %d classes of %s: round 0 labels one row of %d "
                    "classes drawn under each seed, and the other %d start unseen\n",
                    cfg.init, pool.k, pool.name, cfg.init, pool.k - cfg.init);
        RunOutcome out = RUN_OK;
        rc = run_al(&out, &cfg, &pool, &test, &val, &reward, be, seed, err, sizeof err);
        dataset_free(&pool);
        dataset_free(&test);
        dataset_free(&val);
        dataset_free(&reward);
        if (rc) return fail(rc, err);
        if (out == RUN_INTERRUPTED) return ALSIM_SIGNALLED + signals_pending();    /* 130 or 143 */
        ok += out != RUN_DIVERGED;
        diverged += out == RUN_DIVERGED;
    }
    if (diverged && !ok) return fail(ALSIM_RUNTIME, "every seed diverged (see summary.json of each run)");
    if (diverged) fprintf(stderr, "alsim: warning: %d of %d seeds diverged\n", diverged, cfg.seeds);
    return 0;
}

static int cmd_list(int argc, char **argv) {
    strategy_print_list(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv) {
    printf("alsim 0.1.0 (%s)\n", util_git_revision());
    return 0;
}

static int cmd_help(int argc, char **argv) {
    Config cfg;
    config_defaults(&cfg, CMD_RUN);
    usage(stdout, &cfg);
    return 0;
}

/* The subcommands: argv[1] picks one; anything else (an option) is "run". Each gets the
 * arguments after its name. Commands of other modules are declared in their headers. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", cmd_run},
    {"datasets", cmd_datasets},
    {"report", cmd_report},
    {"baseline", cmd_baseline},
    {"check", cmd_check},
    {"train-policy", cmd_train_policy},
    {"--list", cmd_list},
    {"--version", cmd_version},
    {"--help", cmd_help},
    {"-h", cmd_help},
    {"help", cmd_help},
};

int main(int argc, char **argv) {
    if (argc > 1)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 2, argv + 2);
    if (argc > 1 && argv[1][0] != '-') {
        fprintf(stderr, "alsim: unknown command '%s' (alsim --help lists them)\n", argv[1]);
        return ALSIM_BAD_INPUT;
    }
    return cmd_run(argc - 1, argv + 1);
}
