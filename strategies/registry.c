/* registry — the one table of query strategies: what `--strategy NAME` looks up and what
 * `alsim --list` prints. To add a strategy, write its score function (or, batch-aware, its
 * select function) and add a row here. */
#include "strategies/strategy.h"
#include "sim/backend.h"    /* REDUCE_*: the device reduction equal to each score function */

#include <string.h>

static const Strategy strategies[] = {
    {"random", "uniform random scores, seeded per (round, row): the passive baseline",
     NEEDS_NOTHING, score_random, REDUCE_NONE, NULL, NULL, 0, 0, NULL},
    {"least-confidence", "1 - max_c p_c: how unsure the top prediction is (Lewis & Gale 1994)",
     NEEDS_PROBS, score_least_confidence, REDUCE_LEAST_CONFIDENCE, NULL, NULL, 0, 0, NULL},
    {"entropy", "entropy of the predictive distribution, in nats (Shannon 1948; Settles 2009)",
     NEEDS_PROBS, score_entropy, REDUCE_ENTROPY, NULL, NULL, 0, 0, NULL},
    {"margin", "minus the gap between the two most likely classes (Scheffer et al. 2001)",
     NEEDS_PROBS, score_margin, REDUCE_MARGIN, NULL, NULL, 0, 0, NULL},
    {"bald", "mutual information between prediction and weights, from T MC-dropout samples "
             "(Houlsby et al. 2011; Gal et al. 2017)",
     NEEDS_MC, score_bald, REDUCE_BALD, NULL, NULL, 0, 0, NULL},
    {"var-ratios", "1 - share of the T MC-dropout samples that predict the modal class "
                   "(Freeman 1965; Gal et al. 2017)",
     NEEDS_MC, score_var_ratios, REDUCE_VAR_RATIOS, NULL, NULL, 0, 0, NULL},
    {"mean-std", "class-averaged standard deviation of p over T MC-dropout samples "
                 "(Kampffmeyer et al. 2016; Gal et al. 2017)",
     NEEDS_MC, score_mean_std, REDUCE_MEAN_STD, NULL, NULL, 0, 0, NULL},
    {"mc-entropy", "entropy of the mean of T MC-dropout samples' predictive distributions "
                   "(Gal et al. 2017's Max Entropy)",
     NEEDS_MC, score_mc_entropy, REDUCE_MC_ENTROPY, NULL, NULL, 0, 0, NULL},
    {"rl", "a learned policy: a mixture of rankings (margin, entropy, BALD, distance, density, rarity) "
           "weighted by the round's state, the batch picked greedily with a learned diversity penalty; margin until "
           "trained (alsim train-policy; --policy FILE)",
     NEEDS_PROBS | NEEDS_MC | NEEDS_EMB, score_rl, REDUCE_NONE, &rl_hooks, NULL, 0, 0, NULL},
    {"power-bald", "a batch drawn without replacement with probability proportional to BALD "
                   "(Kirsch et al. 2023, Stochastic Batch Acquisition, TMLR; power, beta = 1)",
     NEEDS_MC, score_power_bald, REDUCE_NONE, NULL, NULL, 0, 0, NULL},
    {"softmax-bald", "a batch drawn without replacement with probability proportional to exp(BALD) "
                     "(Kirsch et al. 2023, Stochastic Batch Acquisition, TMLR; softmax, beta = 1)",
     NEEDS_MC, score_softmax_bald, REDUCE_NONE, NULL, NULL, 0, 0, NULL},
    {"albl", "a bandit (Exp4.P) over margin, entropy, least-confidence, bald (with MC dropout) and random, rewarded "
             "by importance-weighted accuracy (Hsu & Lin 2015, Active Learning by Learning, AAAI; libact's)",
     NEEDS_PROBS | NEEDS_MC_IF_DROPOUT | NEEDS_LABELED_PROBS, score_albl, REDUCE_NONE, &albl_hooks, NULL, 0, 0, NULL},
    {"coreset", "greedy k-center on the last hidden layer: each pick the row farthest from the "
                "labeled and picked rows (Sener & Savarese 2018, ICLR)",
     NEEDS_EMB, NULL, REDUCE_NONE, NULL, select_coreset, 0, 0, NULL},
    {"badge", "k-means++ seeding on last-layer gradient embeddings at the predicted label "
              "(Ash et al. 2020, BADGE, ICLR)",
     NEEDS_PROBS | NEEDS_EMB, NULL, REDUCE_NONE, NULL, select_badge, 0, 0, NULL},
    {"batchbald", "greedy joint mutual information of the batch from T MC-dropout samples (Kirsch et "
                  "al. 2019, BatchBALD, NeurIPS), consistent MC dropout: the same T masks for every row",
     NEEDS_MC | NEEDS_SHARED_MASKS, NULL, REDUCE_NONE, NULL, select_batchbald, 2, 1000,
     "the joint entropy needs T >= 2 posterior samples, and its (10,000 configurations x T) "
     "matrix of doubles stays under 80 MB for T <= 1000"},
    {"teacher", "LABEL LOOK-AHEAD, for measurement only: refits the model on each candidate batch (top-b "
                "margin, entropy, BALD, k-center over margin's top, class-balanced margin) and keeps the one most "
                "accurate on a reward split (--reward-size); reads labels it has not queried",
     NEEDS_PROBS | NEEDS_EMB | NEEDS_LOOKAHEAD, NULL, REDUCE_NONE, NULL, select_teacher, 0, 0, NULL},
};

enum { N_STRATEGIES = (int)(sizeof strategies / sizeof strategies[0]) };

const Strategy *strategy_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < N_STRATEGIES; i++)
        if (strcmp(strategies[i].name, name) == 0) return &strategies[i];
    return NULL;
}

const Strategy *strategy_all(int *n) {
    *n = N_STRATEGIES;
    return strategies;
}

void strategy_print_list(FILE *f) {
    static const char *needs_text[] = {"-", "probs", "MC samples", "probs+MC",   /* by bits */
                                       "hidden", "probs+hidden", "MC+hidden", "probs+MC+hidden"};
    for (int i = 0; i < N_STRATEGIES; i++)
        fprintf(f, "%-17s %-15s  %s\n", strategies[i].name,
                (strategies[i].needs & NEEDS_MC_IF_DROPOUT) ? "probs(+MC)"     /* MC when there is dropout */
                    : needs_text[strategies[i].needs & (NEEDS_PROBS | NEEDS_MC | NEEDS_EMB)],
                strategies[i].help);
}
