/* test_checkpoint — a checkpoint reads back exactly what was written (a strategy's state
 * too); the previous format (ALSIMCK3) still reads; a damaged, truncated, foreign or
 * older-format file, or a link, is refused with a reason; a missing one is "none";
 * the inputs it is bound to are compared field by field, naming what changed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/sha256.h"
#include "sim/checkpoint.h"
#include "tests/check.h"

int main(void) {
    char dir[] = "/tmp/alsim-ck.XXXXXX", err[512], path[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "open the folder");
    Checkpoint c = {0}, d;
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 1, "no checkpoint yet");

    int rows[5] = {4, 1, 9, 16, 25};
    int32_t labels[5] = {0, 1, 2, 1, 0};
    double x[3] = {2, 3, 5}, acc[3] = {0.5, 0.625, 1.0 / 3};
    unsigned char state[37];    /* a model's state is opaque bytes to the checkpoint */
    for (size_t i = 0; i < sizeof state; i++) state[i] = (unsigned char)(i * 37 + 11);
    c.seed = 42;
    char *names[3] = {"cat", "dog", "eel"};
    float xs[2 * 4] = {0};
    int32_t ys[2] = {0, 2};
    Dataset pool = {.n = 2, .d = 4, .k = 3, .x = xs, .y = ys, .class_names = names, .sha256 = "aa11"};
    Dataset test = {.n = 1, .d = 4, .k = 3, .x = xs, .y = ys, .class_names = names, .sha256 = "bb22"};
    checkpoint_inputs(&c.inputs, "deadbeef", &pool, &test);
    c.round = 2;
    c.n_labeled = 5; c.rows = rows; c.labels = labels;
    c.queries = 5;
    c.off_curve = 123; c.off_rounds = 4567; c.off_timings = 89;
    c.n_curve = 3; c.curve_x = x; c.curve_acc = acc;
    c.elapsed = 1.25;
    c.last[0] = 0.75; c.last[1] = 0.5; c.last[2] = 1.0 / 7;
    c.diverged = 1;
    c.model_bytes = sizeof state; c.model_state = state;
    CHECK(checkpoint_save(fd, dir, &c, err, sizeof err) == 0, "save: %s", err);
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 0, "load: %s", err);
    CHECK(d.seed == 42 && !strcmp(d.inputs.config_hash, "deadbeef") && d.round == 2 && d.queries == 5, "scalars");
    CHECK(!memcmp(&d.inputs, &c.inputs, sizeof c.inputs), "the inputs read back");
    CHECK(checkpoint_check_inputs(&d.inputs, &c.inputs, "d.csv", NULL, err, sizeof err) == 0, "same inputs: %s", err);
    CHECK(d.elapsed == 1.25 && !memcmp(d.last, c.last, sizeof c.last) && d.diverged == 1, "last metrics");
    CHECK(d.n_labeled == 5 && !memcmp(d.rows, rows, sizeof rows) && !memcmp(d.labels, labels, sizeof labels), "labeled set");
    CHECK(d.off_curve == 123 && d.off_rounds == 4567 && d.off_timings == 89, "offsets");
    CHECK(d.n_curve == 3 && !memcmp(d.curve_x, x, sizeof x) && !memcmp(d.curve_acc, acc, sizeof acc), "curve");
    CHECK(d.model_bytes == sizeof state && !memcmp(d.model_state, state, sizeof state), "model state bitwise");
    CHECK(d.strategy_bytes == 0, "no strategy state");
    checkpoint_free(&d);

    /* A strategy's state across rounds (albl's): opaque bytes, read back bitwise. */
    unsigned char learned[23] = "ALBLST01 some weights";
    c.strategy_bytes = sizeof learned; c.strategy_state = learned;
    CHECK(checkpoint_save(fd, dir, &c, err, sizeof err) == 0, "save: %s", err);
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 0, "load: %s", err);
    CHECK(d.strategy_bytes == sizeof learned && !memcmp(d.strategy_state, learned, sizeof learned) &&
          d.model_bytes == sizeof state && !memcmp(d.model_state, state, sizeof state), "strategy state bitwise");
    checkpoint_free(&d);
    c.strategy_bytes = 0; c.strategy_state = NULL;

    /* The previous format, ALSIMCK3 (no strategy state: its 8-byte size absent), still reads. */
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    CHECK(checkpoint_save(fd, dir, &c, err, sizeof err) == 0, "save: %s", err);
    {
        FILE *g = fopen(path, "rb");
        unsigned char buf[4096];
        size_t len = g ? fread(buf, 1, sizeof buf, g) : 0;
        if (g) fclose(g);
        CHECK(len > 40 && len < sizeof buf, "read back %zu bytes", len);
        len -= 32 + sizeof(size_t);         /* drop the digest and the strategy state's size */
        buf[7] = '3';
        Sha256 h;
        sha256_init(&h);
        sha256_update(&h, buf, len);
        sha256_final(buf + len, &h);
        g = fopen(path, "wb");
        fwrite(buf, 1, len + 32, g);
        fclose(g);
    }
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 0, "an ALSIMCK3 checkpoint loads: %s", err);
    CHECK(d.round == 2 && d.n_labeled == 5 && !memcmp(d.rows, rows, sizeof rows) && d.model_bytes == sizeof state &&
          !memcmp(d.model_state, state, sizeof state) && d.strategy_bytes == 0, "ALSIMCK3: the fields, no strategy state");
    checkpoint_free(&d);

    /* The inputs: each change is named; several at once in one line. */
    CheckpointInputs now = c.inputs;
    snprintf(now.pool_sha256, sizeof now.pool_sha256, "cc33");
    now.pool_rows = 1;
    CHECK(checkpoint_check_inputs(&c.inputs, &now, "d.csv", NULL, err, sizeof err) == 2 &&
          !strncmp(err, "d.csv: changed since the run was checkpointed", 45) && strstr(err, "SHA-256 cc33, was aa11") &&
          strstr(err, "pool rows 1, were 2") && strstr(err, "--force") && !strchr(err, '\n'), "data changed: %s", err);
    CheckpointInputs joint = c.inputs, joint_now;     /* one hash of the dataset and its --test file */
    memcpy(joint.test_sha256, joint.pool_sha256, sizeof joint.pool_sha256);
    joint_now = joint;
    snprintf(joint_now.pool_sha256, sizeof joint_now.pool_sha256, "ee55");
    memcpy(joint_now.test_sha256, joint_now.pool_sha256, sizeof joint_now.pool_sha256);
    CHECK(checkpoint_check_inputs(&joint, &joint_now, "d.csv", "t.csv", err, sizeof err) == 2 &&
          !strncmp(err, "d.csv (with --test t.csv): changed", 34) && !strstr(err, "test set SHA-256"), "joint hash: %s", err);
    now = c.inputs;
    snprintf(now.test_sha256, sizeof now.test_sha256, "dd44");
    CHECK(checkpoint_check_inputs(&c.inputs, &now, "d.csv", "t.csv", err, sizeof err) == 2 && !strncmp(err, "t.csv: ", 7) &&
          strstr(err, "test set SHA-256 dd44, was bb22"), "test file changed: %s", err);
    char *renamed[3] = {"cat", "dog", "emu"};
    pool.class_names = renamed;
    checkpoint_inputs(&now, "deadbeef", &pool, &test);
    CHECK(checkpoint_check_inputs(&c.inputs, &now, "d.csv", NULL, err, sizeof err) == 2 && strstr(err, "class names"),
          "a class renamed: %s", err);
    pool.k = 2;
    checkpoint_inputs(&now, "deadbeef", &pool, &test);
    CHECK(checkpoint_check_inputs(&c.inputs, &now, "d.csv", NULL, err, sizeof err) == 2 && strstr(err, "classes 2, were 3"),
          "a class fewer: %s", err);
    checkpoint_inputs(&now, "feedf00d", &(Dataset){.n = 2, .d = 4, .k = 3, .class_names = names, .sha256 = "aa11"}, &test);
    CHECK(checkpoint_check_inputs(&c.inputs, &now, "d.csv", NULL, err, sizeof err) == 2 && strstr(err, "config hash feedf00d"),
          "another config: %s", err);

    /* Damage: flip one byte in the middle; truncate; a foreign file. Each is refused. */
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 2 && strstr(err, "SHA-256") && strstr(err, path), "flipped byte: %s", err);
    CHECK(truncate(path, 50) == 0, "truncate");
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 2, "truncated: %s", err);
    f = fopen(path, "wb");
    fputs("hello, not a checkpoint, but long enough to hold a digest at its end........", f);
    fclose(f);
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 2 && strstr(err, "not an alsim checkpoint"), "foreign: %s", err);
    CHECK(d.rows == NULL && d.model_state == NULL, "nothing left allocated after a refusal");
    f = fopen(path, "wb");          /* the previous format, without the inputs: refused by name */
    fputs("ALSIMCK2 an older checkpoint, long enough to hold a digest at its end........", f);
    fclose(f);
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 2 && strstr(err, "format ALSIMCK2") && strstr(err, "ALSIMCK4") &&
          strstr(err, "without --resume"), "older format: %s", err);
    /* A link where the checkpoint should be is not followed. */
    unlink(path);
    CHECK(symlink("/etc/hostname", path) == 0, "symlink");
    CHECK(checkpoint_load(&d, fd, dir, err, sizeof err) == 2 && strstr(err, "symbolic link"), "a link: %s", err);
    unlink(path);
    char tmp_path[320];
    snprintf(tmp_path, sizeof tmp_path, "%s/checkpoint.bin.tmp", dir);
    char target[320];
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    CHECK(symlink(target, tmp_path) == 0, "symlink the temporary");
    CHECK(checkpoint_save(fd, dir, &c, err, sizeof err) == 3 && access(target, F_OK) != 0, "a link as the temporary is not written through: %s", err);
    unlink(tmp_path);

    /* An unwritable folder: exit-code 3 with the reason. */
    CHECK(checkpoint_save(-1, "/dev/null/nowhere", &c, err, sizeof err) == 3 && strstr(err, "cannot write"), "unwritable: %s", err);

    unlink(path);
    close(fd);
    rmdir(dir);
    return check_done("test_checkpoint");
}
