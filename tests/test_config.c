/* test_config — the option table (sim/config.h): every subcommand's defaults parse; the
 * command line and a JSON config are two spellings of one Config (CLI → config.json → -c
 * gives back the same Config and config hash, for run and train-policy); an option of
 * another subcommand is refused with exit 2 naming it; a name means one row per subcommand;
 * the run's defaults are the documented ones. */
#include "sim/config.h"
#include "sim/jsonw.h"
#include "sim/results.h"
#include "sim/util.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const Command all_cmds[] = {CMD_RUN, CMD_TRAIN_POLICY, CMD_REPORT, CMD_BASELINE, CMD_CHECK};

/* Parses a space-separated command line of cmd into c (from cmd's defaults). */
static int parse(Config *c, Command cmd, const char *line, char *err, size_t errlen) {
    char buf[2048], *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 64; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    config_defaults(c, cmd);
    return config_parse_args(c, cmd, argc, argv, NULL, NULL, err, errlen);
}

/* c → JSON file (config_write_json) → a Config from cmd's defaults and -c FILE. */
static int round_trip(Config *back, const Config *c, Command cmd, char *err, size_t errlen) {
    char path[] = "/tmp/alsim-test-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    JsonW w;
    jw_init(&w, f, 1);
    jw_object(&w);
    config_write_json(&w, c, cmd);
    jw_end(&w);
    jw_finish(&w);
    fclose(f);
    char line[256];
    snprintf(line, sizeof line, "-c %s", path);
    int rc = parse(back, cmd, line, err, errlen);
    unlink(path);
    return rc;
}

static void test_round_trip(Command cmd, const char *line) {
    char err[1024] = "";
    Config a, b;
    CHECK(parse(&a, cmd, line, err, sizeof err) == 0, "%s: %s", line, err);
    CHECK(round_trip(&b, &a, cmd, err, sizeof err) == 0, "%s: read back: %s", line, err);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "%s: the JSON read back is another Config", line);
    char ha[9], hb[9];
    config_hash(ha, &a);
    config_hash(hb, &b);
    CHECK(strcmp(ha, hb) == 0, "%s: hash %s vs %s", line, ha, hb);
}

int main(void) {
    char err[1024];
    Config c, d;

    /* Every subcommand's defaults parse (config_defaults aborts on one that does not), and
     * the defaults read back from their own JSON. */
    for (size_t i = 0; i < sizeof all_cmds / sizeof all_cmds[0]; i++) {
        config_defaults(&c, all_cmds[i]);
        CHECK(round_trip(&d, &c, all_cmds[i], err, sizeof err) == 0, "%s defaults: %s",
              config_command_name(all_cmds[i]), err);
        d.hidden_set = c.hidden_set;    /* a config file that names --hidden sets it */
        CHECK(memcmp(&c, &d, sizeof c) == 0, "%s defaults do not read back", config_command_name(all_cmds[i]));
    }

    /* The run's documented defaults. */
    config_defaults(&c, CMD_RUN);
    CHECK(!strcmp(c.dataset, "mnist") && !strcmp(c.strategy, "bald") && !strcmp(c.model, "mlp") &&
          c.rounds == 20 && c.batch == 10 && c.init == 20 && c.epochs == 50 && c.minibatch == 64 &&
          c.n_hidden == 1 && c.hidden[0] == 512 && c.hidden_set == 0 && c.dropout == 0.5 &&
          c.lr == 1e-3 && c.weight_decay == 1e-4 && c.mc == 20 && !strcmp(c.out, "runs") &&
          !strcmp(c.device, "auto") && c.seeds == 1, "run defaults");
    /* train-policy shares the run's learner and episode shape, and has its own options. */
    Config t;
    config_defaults(&t, CMD_TRAIN_POLICY);
    CHECK(t.rounds == c.rounds && t.epochs == c.epochs && t.mc == c.mc && t.hidden[0] == c.hidden[0] &&
          t.dropout == c.dropout && t.lr == c.lr && t.minibatch == c.minibatch && t.init == c.init,
          "an episode's defaults are a run's");
    CHECK(t.episodes == 200 && t.reward_size == 1000 && !strcmp(t.reward, "accuracy") && !*t.out,
          "train-policy defaults");
    config_defaults(&c, CMD_REPORT);
    CHECK(!strcmp(c.out, "results") && c.resamples == 10000 && c.alpha == 0.05 && !strcmp(c.reference, "random"),
          "report defaults");
    config_defaults(&c, CMD_BASELINE);
    CHECK(!*c.out && c.resamples == 100, "baseline defaults");
    config_defaults(&c, CMD_CHECK);
    CHECK(c.tolerance == 0.005 && c.tolerance_labels == -1 && c.resamples == 100, "check defaults");

    /* CLI → config.json → -c: the same Config. */
    test_round_trip(CMD_RUN, "--dataset synthetic:blobs:k=3 --label y --test t.csv --test-frac 0.25 --strategy margin "
                             "--rounds 7 --batch 3 --init 9 --seed 12345 --seeds 4 --epochs 11 --minibatch 17 "
                             "--hidden 32,16 --dropout 0.3 --lr 0.0123 --weight-decay 0.5 --mc 5 --warm-start "
                             "--pool-size 400 --test-size 90 --noise 0.1 --target 0.8 --device cpu --out o "
                             "--force --policy p.json --resume --quiet");
    test_round_trip(CMD_RUN, "--hidden 0 --full-data --lr 3e-5");
    test_round_trip(CMD_TRAIN_POLICY, "--train mnist+spamassassin --episodes 7 --rounds 3 --pool-size 500 "
                                      "--reward-size 300 --hidden 32 --epochs 5 --mc 4 --reward loss "
                                      "--loss-alpha 0.2 --policy-lr 0.003 --entropy 0.1 --out p.json");
    test_round_trip(CMD_CHECK, "--baseline b.json --alpha 0.01 --tolerance 0.01 --tolerance-labels 20 --against a=b");
    test_round_trip(CMD_REPORT, "--out r --target 0.9 --reference margin --resamples 200 --seed 3 --logx");

    /* Another subcommand's option: exit 2, naming it and where the list is. */
    static const struct { Command cmd; const char *line, *want; } wrong[] = {
        {CMD_RUN, "--resamples 200", "unknown option '--resamples'"},
        {CMD_RUN, "--episodes 3", "unknown option '--episodes'"},
        {CMD_TRAIN_POLICY, "--strategy margin", "train-policy: unknown option '--strategy' (alsim train-policy --help"},
        {CMD_TRAIN_POLICY, "--alpha 0.1", "unknown option '--alpha'"},
        {CMD_REPORT, "--train mnist", "report: unknown option '--train' (alsim report --help"},
        {CMD_CHECK, "--logx", "check: unknown option '--logx'"},
        {CMD_BASELINE, "--tolerance 0.1", "baseline: unknown option '--tolerance'"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        err[0] = 0;
        int rc = parse(&c, wrong[i].cmd, wrong[i].line, err, sizeof err);
        CHECK(rc == ALSIM_BAD_INPUT && strstr(err, wrong[i].want), "%s %s: rc %d, '%s'",
              config_command_name(wrong[i].cmd), wrong[i].line, rc, err);
    }
    /* One name, one meaning per subcommand: --out is a folder of runs, a report folder, a
     * file. */
    CHECK(parse(&c, CMD_REPORT, "--out x", err, sizeof err) == 0 && !strcmp(c.out, "x"), "report --out");
    CHECK(parse(&c, CMD_TRAIN_POLICY, "--out x.json", err, sizeof err) == 0 && !strcmp(c.out, "x.json"), "tp --out");
    /* Ranges and required options. */
    CHECK(parse(&c, CMD_REPORT, "--alpha 2", err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, "--alpha"), "alpha 2: %s", err);
    config_defaults(&c, CMD_TRAIN_POLICY);
    CHECK(config_check(&c, CMD_TRAIN_POLICY, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, "--train"), "tp without --train: %s", err);
    config_defaults(&c, CMD_CHECK);
    CHECK(config_check(&c, CMD_CHECK, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, "--baseline"), "check without --baseline: %s", err);
    CHECK(parse(&c, CMD_RUN, "--model nosuch", err, sizeof err) == 0 &&
          config_check(&c, CMD_RUN, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, "nosuch"), "unknown model: %s", err);
    /* An MC-dropout strategy on an MLP without dropout would score every row alike: refused
     * (bald, var-ratios, mean-std; --hidden 0 or --dropout 0). With dropout, and for the
     * strategies that read probabilities, accepted. */
    const struct { const char *line; int rc; const char *want; } mc[] = {
        {"--strategy bald --hidden 0", ALSIM_BAD_INPUT, "--hidden 0 (no hidden layer"},
        {"--strategy var-ratios --dropout 0", ALSIM_BAD_INPUT, "with --dropout 0 they are all the same"},
        {"--strategy mean-std --hidden 0", ALSIM_BAD_INPUT, "use least-confidence, entropy or margin"},
        {"--strategy bald --dropout 0.1", 0, ""},
        {"--strategy margin --hidden 0", 0, ""},
        {"--strategy entropy --dropout 0", 0, ""},
    };
    for (size_t i = 0; i < sizeof mc / sizeof mc[0]; i++) {
        err[0] = 0;
        int rc = parse(&c, CMD_RUN, mc[i].line, err, sizeof err);
        if (!rc) rc = config_check(&c, CMD_RUN, err, sizeof err);
        CHECK(rc == mc[i].rc && strstr(err, mc[i].want), "%s: rc %d, '%s'", mc[i].line, rc, err);
    }
    /* Positional arguments: RUNS for report, an error for run. */
    char *argv[] = {"a", "--alpha", "0.1", "b"}, *paths[4];
    int npaths = 0;
    config_defaults(&c, CMD_REPORT);
    CHECK(config_parse_args(&c, CMD_REPORT, 4, argv, paths, &npaths, err, sizeof err) == 0 && npaths == 2 &&
          !strcmp(paths[0], "a") && !strcmp(paths[1], "b") && c.alpha == 0.1, "report RUNS");
    config_defaults(&c, CMD_RUN);
    CHECK(config_parse_args(&c, CMD_RUN, 4, argv, NULL, NULL, err, sizeof err) == ALSIM_BAD_INPUT &&
          strstr(err, "unexpected argument 'a'"), "run with a positional: %s", err);
    /* --hidden: 0 or widths, nothing else; numbers without blanks. */
    static const struct { const char *line, *want; } refused[] = {
        {"--hidden 4,", "is not 0 or a comma-separated list"}, {"--hidden ,4", "is not 0 or"},
        {"--hidden 2147483647", "width 2147483647 is not in [1, 1000000]"}, {"--hidden 2.5", "is not 0 or"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        err[0] = 0;
        CHECK(parse(&c, CMD_RUN, refused[i].line, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, refused[i].want),
              "%s: '%s'", refused[i].line, err);
    }
    /* Values with blanks or empty (parse() splits at blanks, so argv by hand). */
    static const struct { const char *opt, *val, *want; } blank[] = {
        {"--hidden", "", "is not 0 or"}, {"--batch", " 5", "blank before the number"},
        {"--batch", "5 ", "not an integer"}, {"--seed", " 1", "blank before the number"},
        {"--lr", " 0.1", "blank before the number"},
    };
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        char *argv2[] = {(char *)blank[i].opt, (char *)blank[i].val};
        config_defaults(&c, CMD_RUN);
        err[0] = 0;
        CHECK(config_parse_args(&c, CMD_RUN, 2, argv2, NULL, NULL, err, sizeof err) == ALSIM_BAD_INPUT &&
              strstr(err, blank[i].want), "%s '%s': '%s'", blank[i].opt, blank[i].val, err);
    }
    CHECK(parse(&c, CMD_RUN, "--hidden 256,128", err, sizeof err) == 0 && c.n_hidden == 2 && c.hidden[1] == 128, "256,128");

    /* A JSON config: a key twice ('-' and '_' alike), text after the object, a seed beyond
     * 2^53 as a number (as a string it is exact). */
    static const struct { const char *json, *want; } bad_json[] = {
        {"{\"batch\": 5,\n \"batch\": 6}\n", "line 2: \"batch\" given twice"},
        {"{\"weight-decay\": 0.1, \"weight_decay\": 0.2}", "given twice"},
        {"{\"batch\": 5}\n xx\n", "line 2: something after the JSON object"},
        {"{\"seed\": 18446744073709551615}", "beyond 2^53"},
        {"{\"hidden\": [64.5]}", "is not 0 or"},
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        char path[] = "/tmp/alsim-test-config-XXXXXX", line[64];
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, bad_json[i].json, strlen(bad_json[i].json)) == (ssize_t)strlen(bad_json[i].json), "write");
        close(fd);
        snprintf(line, sizeof line, "-c %s", path);
        err[0] = 0;
        CHECK(parse(&c, CMD_RUN, line, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, bad_json[i].want),
              "%s: '%s'", bad_json[i].json, err);
        unlink(path);
    }
    {
        char path[] = "/tmp/alsim-test-config-XXXXXX", line[64];
        const char *json = "{\"seed\": \"18446744073709551615\", \"hidden\": []}";
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, json, strlen(json)) == (ssize_t)strlen(json), "write");
        close(fd);
        snprintf(line, sizeof line, "-c %s", path);
        CHECK(parse(&c, CMD_RUN, line, err, sizeof err) == 0 && c.seed == 18446744073709551615ull && c.n_hidden == 0,
              "seed as a string: %s", err);
        unlink(path);
    }

    /* Run ids: the config hash of a run's options. Options added after runs were recorded
     * (--standardize, logreg's --C, --max-iter, --tol) count only when they differ from their
     * default, so a run that does not use them keeps the id an older alsim gave it: the
     * values below are those of alsim before these options existed. */
    static const struct { const char *line, *hash; } ids[] = {
        {"", "c465c25f"},
        {"--dataset mnist --strategy bald", "c465c25f"},
        {"--dataset mnist --hidden 0 --epochs 3", "06254584"},
        {"--C 1.0 --max-iter 1000 --tol 0.0001 --no-standardize", "c465c25f"},
        {"--l2-per-label 0 --val-size 0 --pool-subset 0", "c465c25f"},
        {"--dataset mnist --hidden 0 --epochs 3 --l2-per-label 0", "06254584"},
        {"--max-tokens 128", "c465c25f"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char h[9];
        CHECK(parse(&c, CMD_RUN, ids[i].line, err, sizeof err) == 0, "%s: %s", ids[i].line, err);
        config_hash(h, &c);
        CHECK(!strcmp(h, ids[i].hash), "'%s': hash %s, was %s", ids[i].line, h, ids[i].hash);
    }
    static const char *const changes[] = {"--standardize", "--C 2", "--max-iter 50", "--tol 1e-6", "--model logreg",
                                          "--l2-per-label 3.5", "--val-size 100", "--pool-subset 2000",
                                          "--max-tokens 64", "--text-column body"};
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char h[9];
        CHECK(parse(&c, CMD_RUN, changes[i], err, sizeof err) == 0, "%s: %s", changes[i], err);
        config_hash(h, &c);
        CHECK(strcmp(h, "c465c25f") != 0, "'%s' keeps the default's hash", changes[i]);
    }
    test_round_trip(CMD_RUN, "--hidden 8 --model logreg --strategy margin --C 0.25 --max-iter 77 --tol 1e-7 --standardize");
    config_defaults(&c, CMD_RUN);
    CHECK(c.logreg_c == 1.0 && c.max_iter == 1000 && c.tol == 1e-4 && c.standardize == 0, "logreg and standardize defaults");

    /* The protocol's knobs (Gal et al. 2017): off by default, recorded, refused where they
     * cannot apply. */
    CHECK(c.l2_per_label == 0 && c.val_size == 0 && c.pool_subset == 0, "protocol knobs off by default");
    test_round_trip(CMD_RUN, "--hidden 128 --l2-per-label 3.5 --weight-decay 0 --val-size 100 --pool-subset 2000");
    test_round_trip(CMD_TRAIN_POLICY, "--train mnist --out p.json --hidden 64 --l2-per-label 2.5");
    static const struct { const char *line, *want; } knob_refused[] = {
        {"--model logreg --strategy margin --l2-per-label 3.5", "--l2-per-label is a penalty on a network's first dense layer"},
        {"--pool-subset 9 --batch 10", "--pool-subset 9 is smaller than --batch 10"},
        {"--text-column body", "--text-column makes token rows for a language model: it applies to --model bert:DIR"},
        {"--max-tokens 64", "--max-tokens makes token rows for a language model: it applies to --model bert:DIR"},
    };
    for (size_t i = 0; i < sizeof knob_refused / sizeof knob_refused[0]; i++) {
        err[0] = 0;
        int rc = parse(&c, CMD_RUN, knob_refused[i].line, err, sizeof err);
        if (!rc) rc = config_check(&c, CMD_RUN, err, sizeof err);
        CHECK(rc == ALSIM_BAD_INPUT && strstr(err, knob_refused[i].want), "%s: rc %d, '%s'", knob_refused[i].line, rc, err);
    }
    CHECK(parse(&c, CMD_RUN, "--l2-per-label -1", err, sizeof err) == ALSIM_BAD_INPUT, "--l2-per-label -1 accepted");
    CHECK(parse(&c, CMD_RUN, "--max-tokens 1", err, sizeof err) == ALSIM_BAD_INPUT &&
          parse(&c, CMD_RUN, "--max-tokens 4097", err, sizeof err) == ALSIM_BAD_INPUT, "--max-tokens outside 2..4096");
    config_defaults(&c, CMD_RUN);
    CHECK(c.max_tokens == 128 && c.text_column[0] == 0, "--max-tokens 128 and no --text-column by default");
    {   /* --model holds a folder path: the run id keeps only its name, without slashes */
        char id[256];
        CHECK(parse(&c, CMD_RUN, "--model bert:/models/tiny-bert/", err, sizeof err) == 0, "%s", err);
        results_run_id(id, &c, "spamassassin", "cpu", 3);
        CHECK(!strncmp(id, "spamassassin-bert_tiny_bert-bald-seed3-", 39) && !strchr(id, '/'), "run id %s", id);
    }
    CHECK(parse(&c, CMD_RUN, "--pool-subset 10 --batch 10", err, sizeof err) == 0 && config_check(&c, CMD_RUN, err, sizeof err) == 0,
          "--pool-subset = --batch: %s", err);
    CHECK(parse(&c, CMD_TRAIN_POLICY, "--pool-subset 100", err, sizeof err) == ALSIM_BAD_INPUT &&
          parse(&c, CMD_TRAIN_POLICY, "--val-size 100", err, sizeof err) == ALSIM_BAD_INPUT, "train-policy takes neither");
    return check_done("test_config");
}
