/* config — every setting of a run, from defaults, a JSON file (-c) and the command line.
 *
 * One table of options (config.c) drives everything: parsing the command line, reading a JSON
 * config, printing --help with the live defaults, and writing the effective config into each
 * run's config.json. Order of precedence: defaults < -c FILE < command-line options.
 */
#ifndef ALSIM_CONFIG_H
#define ALSIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/learner.h"

/* The policy the project trained and ships (strategies/default-policy.json of the source
 * tree this alsim was built from). */
#ifndef ALSIM_DEFAULT_POLICY
#define ALSIM_DEFAULT_POLICY "strategies/default-policy.json"
#endif

typedef struct {
    char dataset[1024];     /* a catalog name, synthetic:…, idx:…, a folder, or a data file */
    char label[256];        /* class column (csv) or attribute (arff): name or index; "" default */
    char test[1024];        /* a fixed test set in the dataset's format; "" = a split */
    double test_frac;       /* share of each class split off as the test set (no --test) */
    char strategy[64];
    char model[32];         /* the model fitted each round (model.h) */
    int rounds;             /* acquisition rounds R: the curve has R+1 rows */
    int batch;              /* rows queried per round b */
    int init;               /* initial labeled rows, class-balanced */
    uint64_t seed;          /* first seed */
    int seeds;              /* seeds seed..seed+seeds-1, one run each */
    int epochs;             /* training budget: epochs over the labeled set per round */
    int minibatch;
    int n_hidden;
    int hidden[LEARNER_MAX_HIDDEN];
    int hidden_set;         /* 1 when hidden came from -c or the command line */
    double dropout;
    double lr, weight_decay;
    int mc;                 /* MC-dropout samples T for the Bayesian strategies */
    int warm_start;         /* 1: fine-tune the previous round's model; 0: retrain from scratch */
    int pool_size;          /* 0 = the whole pool; else a seeded random subset of this many */
    int test_size;          /* 0 = the whole test set; else a seeded random subset */
    double noise;           /* oracle label-noise rate */
    double target;          /* accuracy target for labels-to-target in summary.json; 0 = none */
    int full_data;          /* train once on the whole pool (the accuracy ceiling) */
    char device[16];        /* cpu | cuda | auto */
    char out[1024];         /* output root: runs go to OUT/<run-id>/ */
    int force;              /* replace a finished run with the same id */
    int resume;             /* continue a partial run from its checkpoint */
    char policy[1024];      /* the rl strategy's policy file (its SHA-256 goes in config.json) */
    int quiet;              /* no progress lines */
} Config;

/* Fills c with the defaults. */
void config_defaults(Config *c);

/* Applies a JSON config file (an object whose keys are option names, '-' or '_' alike).
 * Returns 0, or 2 with "FILE: line L: reason" in err. */
int config_load_json(Config *c, const char *path, char *err, size_t errlen);

/* Applies command-line options argv[0..argc-1] (no program name, no subcommand). Handles
 * "-c FILE" first, wherever it stands, then the rest in order. Returns 0, or 2 with a
 * one-line reason (unknown option, missing or malformed value) in err. */
int config_parse_args(Config *c, int argc, char **argv, char *err, size_t errlen);

/* Checks ranges and names that need no data (libsvm's svm_check_parameter). 0, or 2. */
int config_check(const Config *c, char *err, size_t errlen);

/* The default hidden layer for sparse input (text, svmlight): the first layer has D·H weights
 * (2^18·64 = 16.8M for text), every one updated by AdamW at every step, so the dense default
 * of 512 would hold 2.1 GB of parameters, gradients and Adam state and take minutes a round. */
#define CONFIG_SPARSE_HIDDEN 64

/* Settings that depend on the data, applied once it is loaded (before the run, so config.json
 * and the run id show them): with sparse input and no hidden widths given, one hidden layer of
 * CONFIG_SPARSE_HIDDEN units. */
void config_adapt(Config *c, int sparse_input);

/* The learner settings of c for a dataset of d features and k classes. */
LearnerConfig config_learner(const Config *c, int d, int k);

/* Prints the options with their help and the current values of c as defaults. */
void config_print_options(FILE *f, const Config *c);

/* Writes the options of c as members of the JSON object open in w (see jsonw.h). */
struct JsonW;
void config_write_json(struct JsonW *w, const Config *c);

/* Whether an option (its JSON key, '_' or '-') exists, and whether it changes results (seed,
 * strategy, out, device, ... do not: runs differing only in those are comparable). */
int config_key_known(const char *key);
int config_key_affects_results(const char *key);

/* A short hex hash of everything in c that changes results, except seed and strategy:
 * runs that differ only in seed or strategy share it. out (9 bytes). */
void config_hash(char out[9], const Config *c);

#endif
