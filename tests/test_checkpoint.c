/* test_checkpoint — a checkpoint reads back exactly what was written; a damaged, truncated or
 * foreign file is refused with a reason; a missing one is "none". */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/checkpoint.h"
#include "tests/check.h"

int main(void) {
    char dir[] = "/tmp/alsim-ck.XXXXXX", err[512], path[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    Checkpoint c = {0}, d;
    CHECK(checkpoint_load(&d, dir, err, sizeof err) == 1, "no checkpoint yet");

    int rows[5] = {4, 1, 9, 16, 25};
    int32_t labels[5] = {0, 1, 2, 1, 0};
    double x[3] = {2, 3, 5}, acc[3] = {0.5, 0.625, 1.0 / 3};
    unsigned char state[37];    /* a model's state is opaque bytes to the checkpoint */
    for (size_t i = 0; i < sizeof state; i++) state[i] = (unsigned char)(i * 37 + 11);
    c.seed = 42;
    memcpy(c.config_hash, "deadbeef", 9);
    c.round = 2;
    c.n_labeled = 5; c.rows = rows; c.labels = labels;
    c.queries = 5;
    c.off_curve = 123; c.off_rounds = 4567; c.off_timings = 89;
    c.n_curve = 3; c.curve_x = x; c.curve_acc = acc;
    c.elapsed = 1.25;
    c.last[0] = 0.75; c.last[1] = 0.5; c.last[2] = 1.0 / 7;
    c.diverged = 1;
    c.model_bytes = sizeof state; c.model_state = state;
    CHECK(checkpoint_save(dir, &c, err, sizeof err) == 0, "save: %s", err);
    CHECK(checkpoint_load(&d, dir, err, sizeof err) == 0, "load: %s", err);
    CHECK(d.seed == 42 && !strcmp(d.config_hash, "deadbeef") && d.round == 2 && d.queries == 5, "scalars");
    CHECK(d.elapsed == 1.25 && !memcmp(d.last, c.last, sizeof c.last) && d.diverged == 1, "last metrics");
    CHECK(d.n_labeled == 5 && !memcmp(d.rows, rows, sizeof rows) && !memcmp(d.labels, labels, sizeof labels), "labeled set");
    CHECK(d.off_curve == 123 && d.off_rounds == 4567 && d.off_timings == 89, "offsets");
    CHECK(d.n_curve == 3 && !memcmp(d.curve_x, x, sizeof x) && !memcmp(d.curve_acc, acc, sizeof acc), "curve");
    CHECK(d.model_bytes == sizeof state && !memcmp(d.model_state, state, sizeof state), "model state bitwise");
    checkpoint_free(&d);

    /* Damage: flip one byte in the middle; truncate; a foreign file. Each is refused. */
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    CHECK(checkpoint_load(&d, dir, err, sizeof err) == 2 && strstr(err, "SHA-256") && strstr(err, path), "flipped byte: %s", err);
    CHECK(truncate(path, 50) == 0, "truncate");
    CHECK(checkpoint_load(&d, dir, err, sizeof err) == 2, "truncated: %s", err);
    f = fopen(path, "wb");
    fputs("hello, not a checkpoint, but long enough to hold a digest at its end........", f);
    fclose(f);
    CHECK(checkpoint_load(&d, dir, err, sizeof err) == 2 && strstr(err, "not an alsim checkpoint"), "foreign: %s", err);
    CHECK(d.rows == NULL && d.model_state == NULL, "nothing left allocated after a refusal");

    /* An unwritable folder: exit-code 3 with the reason. */
    CHECK(checkpoint_save("/dev/null/nowhere", &c, err, sizeof err) == 3 && strstr(err, "cannot write"), "unwritable: %s", err);

    unlink(path);
    rmdir(dir);
    return check_done("test_checkpoint");
}
