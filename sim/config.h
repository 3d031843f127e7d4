/* config — every setting of every subcommand (run, train-policy, report, baseline, check), from
 * defaults, a JSON file (-c) and the command line.
 *
 * One table of options (config.c) drives everything: each row names its subcommands and holds
 * its default as text, and from it come parsing the command line, reading a JSON config,
 * --help with the live defaults, and the effective config in each run's config.json. Rows of
 * one name may differ between subcommands (--out is the runs' root for run, the report's
 * folder for report, a file for baseline and train-policy). Order of precedence: defaults
 * < -c FILE < command-line options.
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

/* The subcommands, as bits: a row of the option table lists those it belongs to. */
typedef enum {
    CMD_RUN = 1, CMD_TRAIN_POLICY = 2, CMD_REPORT = 4, CMD_BASELINE = 8, CMD_CHECK = 16,
} Command;

typedef struct {
    /* run (and, where marked TP, the episodes of train-policy: a policy is trained in the
     * world of a run with the same options) */
    char dataset[1024];     /* a catalog name, synthetic:…, idx:…, a folder, or a data file */
    char label[256];        /* TP: class column (csv) or attribute (arff): name or index; "" default */
    char test[1024];        /* a fixed test set in the dataset's format; "" = a split */
    double test_frac;       /* TP: share of each class split off as the test set (no --test) */
    int standardize;        /* TP: z-score the features with the pool's statistics
                               (dataset_standardize) */
    char strategy[64];
    char model[1024];       /* TP: the model fitted each round (model.h); bert:DIR holds a folder path */
    char text_column[256];  /* csv: the column of raw text made token rows for --model bert:DIR; "" none */
    int max_tokens;         /* TP: --model bert:DIR: token rows' length ([CLS] + pieces + [SEP]) */
    char finetune[32];      /* bert: none | lora:R | head+last:K (sim/bertmodel.c) */
    char pooling[8];        /* bert: cls | mean: a sequence's vector */
    char head[16];          /* bert with --finetune none: the model fitted on the pooled vectors */
    double lora_alpha;      /* bert: LoRA's alpha; the adapters' scale is alpha / R */
    int rounds;             /* TP: acquisition rounds R: the curve has R+1 rows */
    int batch;              /* TP: rows queried per round b */
    int init;               /* TP: initial labeled rows, class-balanced */
    uint64_t seed;          /* TP: first seed; report/baseline: the bootstrap's seed */
    int seeds;              /* seeds seed..seed+seeds-1, one run each */
    int epochs;             /* TP: training budget: epochs over the labeled set per round */
    int minibatch;          /* TP */
    int n_hidden;           /* TP */
    int hidden[LEARNER_MAX_HIDDEN];
    int hidden_set;         /* 1 when hidden came from -c or the command line */
    double dropout;         /* TP */
    double lr, weight_decay;    /* TP */
    double l2_per_label;    /* TP: c: the L2 penalty (c / labeled rows)·||W||² on the first dense
                               layer's weights (Gal et al. 2017's code); 0 = none */
    int mc;                 /* TP: MC-dropout samples T for the Bayesian strategies */
    int warm_start;         /* TP: 1: fine-tune the previous round's model; 0: retrain from scratch */
    double logreg_c;        /* TP: logreg's inverse L2 strength C (loss = Σ cross-entropy + ||W||²/(2C)) */
    int max_iter;           /* TP: logreg's L-BFGS iteration cap per round */
    double tol;             /* TP: logreg's gradient tolerance (largest |component| of the loss's gradient) */
    char cnn_layout[32];    /* TP: cnn: conv-conv-pool (Gal et al. 2017) | conv-pool-conv-pool (Kirsch et al. 2019) */
    int epoch_rows;         /* TP: an epoch's draws when the labeled set is smaller; 0 = one pass */
    int early_stop;         /* patience in epochs of early stopping on the validation set; 0 = none */
    int conv_filters;       /* TP: cnn: kernels of the first convolution (and the second's by default) */
    int conv2_filters;      /* TP: cnn: kernels of the second convolution; 0 = conv_filters */
    int kernel;             /* TP: cnn: their size, kernel x kernel */
    int maxpool;            /* TP: cnn: max-pooling windows maxpool x maxpool, stride maxpool */
    int dense;              /* TP: cnn: units of the dense hidden layer (its embeddings) */
    double dropout_conv;    /* TP: cnn: dropout after the pooling (conv-pool-conv-pool: channel dropout
                               after each pooling) */
    double dropout_dense;   /* TP: cnn: dropout after the dense layer */
    int pool_size;          /* TP: 0 = the whole pool; else a seeded random subset of this many */
    int test_size;          /* 0 = the whole test set; else a seeded random subset */
    int pool_subset;        /* score a seeded random subset of this many unlabeled rows each
                               round and pick among them; 0 = the whole pool */
    int val_size;           /* a labeled validation split of this many pool rows, stratified,
                               never queried, measured every round; 0 = none */
    /* reward_size (below, with train-policy's): run: the teacher's reward split, this many
     * pool rows split off as --val-size's are (0 = none; the teacher's default is
     * CONFIG_TEACHER_REWARD_ROWS); train-policy: an episode's reward split */
    double noise;           /* TP: oracle label-noise rate */
    double target;          /* accuracy target for labels-to-target (run: in summary.json; report,
                               baseline: 0 = the runs' own); 0 = none */
    int full_data;          /* train once on the whole pool (the accuracy ceiling) */
    char device[16];        /* TP: cpu | cuda | auto */
    char out[1024];         /* run: output root, runs go to OUT/<run-id>/; report: its folder;
                               baseline: the file; train-policy: the policy file */
    int force;              /* replace a finished run with the same id */
    int resume;             /* continue a partial run from its checkpoint */
    char policy[1024];      /* the rl strategy's policy file (its SHA-256 goes in config.json) */
    double albl_pmin;       /* albl: Exp4.P's least probability of following an expert; 0 =
                               libact's default sqrt(ln E / (E x rounds x batch)) */
    double albl_delta;      /* albl: Exp4.P's delta (libact's default 0.1) */
    int quiet;              /* TP: no progress lines */

    /* train-policy */
    char train[1024];       /* training datasets joined by '+' */
    int episodes;
    int reward_size;        /* rows of an episode's reward split */
    double policy_lr;       /* the policy's Adam step size */
    char algo[16];          /* dagger | reinforce */
    int dagger_every;       /* dagger: the teacher's rounds, every K-th */
    double dagger_beta;     /* dagger: the teacher's roll-in probability decays as beta^episode */
    int reinforce_batch;    /* reinforce: episodes per Adam step */
    double entropy;         /* entropy bonus */
    char reward[16];        /* accuracy | loss */
    double loss_alpha;      /* the loss reward's weight of log π */

    /* report, baseline, check */
    double target_frac;     /* target = this × the full-data ceiling; 0 = none */
    double alpha;           /* significance level of verdicts and of the gate's tests */
    char reference[64];     /* the strategy savings are measured against */
    char paper[32];         /* report: a published table to compare with (reports/paper.h); "" none */
    int resamples;          /* paired bootstrap resamples */
    int logx;               /* figures: log-scaled label axis */
    char baseline[1024];    /* check: the baseline file */
    double tolerance;       /* check: AULC drop that is not a regression */
    double tolerance_labels;/* check: labels-to-target rise that is not one; -1 = one batch */
    char against[160];      /* check: NEW=BASE, or "" */
} Config;

/* Fills c with the defaults of cmd's options (their rows' default text); the fields of
 * other subcommands' options are zero. */
void config_defaults(Config *c, Command cmd);

/* Applies a JSON config file (an object whose keys are option names of cmd, '-' or '_'
 * alike). Returns 0, or 2 with "FILE: line L: reason" in err. */
int config_load_json(Config *c, Command cmd, const char *path, char *err, size_t errlen);

/* Applies command-line options argv[0..argc-1] (no program name, no subcommand) of cmd.
 * Handles "-c FILE" first, wherever it stands, then the rest in order; skips --help and -h
 * (see config_help_asked). Other arguments go to paths (argc entries; *npaths counts them),
 * or are an error when paths is NULL. Returns 0, or 2 with a one-line reason (unknown option
 * for cmd, missing or malformed value) in err. */
int config_parse_args(Config *c, Command cmd, int argc, char **argv, char **paths, int *npaths,
                      char *err, size_t errlen);

/* "run", "train-policy", "report", "baseline" or "check". */
const char *config_command_name(Command cmd);

/* Whether --help or -h is among argv[0..argc-1]. */
int config_help_asked(int argc, char **argv);

/* Checks ranges and names that need no data (libsvm's svm_check_parameter) and the options
 * cmd requires. 0, or 2. */
int config_check(const Config *c, Command cmd, char *err, size_t errlen);

/* The reward split of --strategy teacher when --reward-size is not given (config_complete). */
#define CONFIG_TEACHER_REWARD_ROWS 1000

/* Run settings that depend on other options, applied after parsing (before any data is read,
 * so config.json and the run id show them): --strategy teacher without --reward-size gets
 * CONFIG_TEACHER_REWARD_ROWS. */
void config_complete(Config *c);

/* The default hidden layer for sparse input (text, svmlight): the first layer has D·H weights
 * (2^18·64 = 16.8M for text), every one updated by AdamW at every step, so the dense default
 * of 512 would hold 2.1 GB of parameters, gradients and Adam state and take minutes a round. */
#define CONFIG_SPARSE_HIDDEN 64

/* Settings that depend on the data, applied once it is loaded (before the run, so config.json
 * and the run id show them): with sparse input and no hidden widths given, one hidden layer of
 * CONFIG_SPARSE_HIDDEN units. */
void config_adapt(Config *c, int sparse_input);

/* Prints cmd's options with their help and the current values of c as defaults. */
void config_print_options(FILE *f, const Config *c, Command cmd);

/* The --help of a subcommand other than run: its usage line, what it does, its options. */
void config_print_usage(FILE *f, const Config *c, Command cmd);

/* Writes cmd's options of c as members of the JSON object open in w (see jsonw.h), in the
 * table's order: what config_load_json reads back to the same c. */
struct JsonW;
void config_write_json(struct JsonW *w, const Config *c, Command cmd);

/* Whether a run option (its JSON key, '_' or '-') exists, and whether it changes results (seed,
 * strategy, out, device, ... do not: runs differing only in those are comparable). */
int config_key_known(const char *key);
int config_key_affects_results(const char *key);

/* A short hex hash of every run option in c that changes results, except seed and strategy:
 * runs that differ only in seed or strategy share it. An option added after runs were
 * recorded counts only when it differs from its default, so the runs of an older alsim keep
 * their ids. out (9 bytes). */
void config_hash(char out[9], const Config *c);

#endif
