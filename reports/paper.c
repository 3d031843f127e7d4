/* paper — see paper.h. */
#include "reports/paper.h"

#include <stddef.h>
#include <string.h>

static const Paper papers[] = {
    {
        "gal2017",
        "Gal, Islam & Ghahramani, \"Deep Bayesian Active Learning with Image Data\", ICML 2017, Table 1 "
        "(Bayesian CNN)",
        "acquired images to reach 10% and 5% test error on MNIST",
        "MNIST; a CNN of conv 32 4x4, conv 32 4x4, max-pool 2x2, dropout 0.25, dense 128, dropout 0.5; 20 initial "
        "labels (balanced); 10 acquired per round, 100 rounds; weight decay optimised on 100 validation points; MC "
        "dropout; 10,000 test images; 3 repetitions",
        2,
        {0.90, 0.95},
        5,
        {
            {"bald", "BALD", {145, 335}},
            {"var-ratios", "Var Ratios", {120, 295}},
            {"mc-entropy", "Max Entropy", {165, 355}},
            {"mean-std", "Mean STD", {230, 695}},
            {"random", "Random", {255, 835}},
        },
    },
};

const Paper *paper_find(const char *name) {
    for (size_t i = 0; name && i < sizeof papers / sizeof papers[0]; i++)
        if (!strcmp(papers[i].name, name)) return &papers[i];
    return NULL;
}

const PaperRow *paper_row(const Paper *p, const char *strategy) {
    for (int i = 0; i < p->n_rows; i++)
        if (!strcmp(p->rows[i].strategy, strategy)) return &p->rows[i];
    return NULL;
}

const char *paper_names(void) { return "gal2017"; }
