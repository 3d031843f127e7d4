/* test_metrics — per-class F1 (written to rounds.jsonl) against hand-computed values, and its
 * agreement with metrics_eval's macro F1. */
#include "sim/metrics.h"
#include "tests/check.h"

#include <string.h>

int main(void) {
    // 3 classes, 6 rows; argmax per row: 0 0 1 1 1 0 (row 5 ties 0 and 2: the lowest wins)
    const float probs[6 * 3] = {
        0.7f, 0.2f, 0.1f,
        0.5f, 0.4f, 0.1f,
        0.1f, 0.8f, 0.1f,
        0.2f, 0.6f, 0.2f,
        0.3f, 0.4f, 0.3f,
        0.4f, 0.2f, 0.4f,
    };
    const int32_t y[6] = {0, 1, 1, 1, 2, 2};
    // class 0: tp 1, predicted 3, labeled 1 → 2/4; class 1: tp 2, predicted 3, labeled 3 →
    // 4/6; class 2: tp 0, predicted 0, labeled 2 → 0
    double f1[3];
    metrics_f1_per_class(f1, probs, y, 6, 3);
    CHECK_NEAR(f1[0], 0.5, 1e-15, 0);
    CHECK_NEAR(f1[1], 4.0 / 6.0, 1e-15, 0);
    CHECK(f1[2] == 0.0, "class never predicted right: f1 %g", f1[2]);
    Metrics m = metrics_eval(probs, y, 6, 3);
    CHECK(m.macro_f1 == (f1[0] + f1[1] + f1[2]) / 3, "macro F1 %.17g is not the mean %.17g",
          m.macro_f1, (f1[0] + f1[1] + f1[2]) / 3);

    // a class without test rows: NaN (not in the macro mean)
    const int32_t y2[6] = {0, 1, 1, 1, 0, 0};
    metrics_f1_per_class(f1, probs, y2, 6, 3);
    CHECK(isnan(f1[2]), "class with no rows: f1 %g, want NaN", f1[2]);
    m = metrics_eval(probs, y2, 6, 3);
    CHECK(m.macro_f1 == (f1[0] + f1[1]) / 2, "macro F1 %.17g, per-class mean %.17g", m.macro_f1,
          (f1[0] + f1[1]) / 2);

    // a non-finite probability: all NaN, as metrics_eval
    float bad[6 * 3];
    memcpy(bad, probs, sizeof bad);
    bad[7] = NAN;
    metrics_f1_per_class(f1, bad, y, 6, 3);
    CHECK(isnan(f1[0]) && isnan(f1[1]) && isnan(f1[2]), "diverged model: f1 not NaN");
    return check_done("test_metrics");
}
