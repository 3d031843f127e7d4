/* run — `alsim run` for one seed: a driver around the session (engine.h). It owns the run
 * folder (results.h), the checkpoint after every round and --resume, the progress line and
 * the signals; the session does the active learning. */
#include "sim/run.h"

#include <signal.h>
#include <string.h>

#include "sim/results.h"
#include "sim/engine.h"
#include "sim/signals.h"
#include "sim/util.h"

int run_al(RunOutcome *outcome, const Config *cfg, const Dataset *pool, const Dataset *test,
           const Dataset *val, const Dataset *reward, const Backend *be, uint64_t seed, char *err,
           size_t errlen) {
    int rc = session_check_sizes(cfg, pool, err, errlen);
    if (!rc) rc = session_check_test(cfg, pool, test, err, errlen);
    if (rc) return rc;

    /* Where the run goes: a fresh partial folder, the checkpoint of a killed run, or a
     * finished run to skip. */
    char run_id[256];
    results_run_id(run_id, cfg, pool->name, be->name, seed);
    Results res;
    Checkpoint ck;
    ResultsStart start;
    if ((rc = results_open(&res, &start, &ck, cfg->out, run_id, val->n > 0, cfg->force, cfg->resume, err, errlen)))
        return rc;
    if (start == RESULTS_FINISHED) {
        fprintf(stderr, "alsim: %s already holds a finished run: skipped (--force runs it again)\n", res.dir);
        *outcome = RUN_SKIPPED;
        return 0;
    }
    /* What the run is bound to: a checkpoint of other data or another config is refused,
     * before anything of the partial folder is touched. */
    char hash[9];
    CheckpointInputs inputs;
    config_hash(hash, cfg);
    checkpoint_inputs(&inputs, hash, pool, test);
    if (start == RESULTS_RESUMED &&
        ((rc = checkpoint_check_inputs(&ck.inputs, &inputs, cfg->dataset, cfg->test[0] ? cfg->test : NULL, err, errlen)) ||
         (rc = results_resume(&res, &ck, err, errlen)))) {
        checkpoint_free(&ck);
        results_suspend(&res);
        return rc;
    }
    Session S;
    int resumable = start == RESULTS_RESUMED;   /* the partial folder holds a checkpoint */
    double elapsed0 = 0;
    if (start == RESULTS_FRESH)
        rc = results_write_config(&res, cfg, seed, be->name, pool, test, err, errlen);
    if (!rc) rc = session_open(&S, cfg, pool, test, be, seed, err, errlen);
    if (!rc && ((val->n > 0 && (rc = session_set_val(&S, val, err, errlen))) ||
                (reward->n > 0 && (rc = session_set_reward(&S, reward, err, errlen)))))
        session_close(&S);
    if (!rc && start == RESULTS_RESUMED) {
        char why[256];
        if ((rc = session_restore(&S, &ck, why, sizeof why))) {
            snprintf(err, errlen, "%s: %s; rerun without --resume, or with --force, to start the run over", res.tmp, why);
            session_close(&S);
        }
        else if (!cfg->quiet)
            fprintf(stderr, "alsim: resuming %s after round %d (%d labels)\n", run_id, ck.round, S.labeled.n_labeled);
        elapsed0 = ck.elapsed;
    }
    checkpoint_free(&ck);
    if (rc) goto fail_closed;
    S.stop = signals_pending;   /* a SIGINT/SIGTERM is honoured between the phases of a round */

    /* The rounds: each one's results, then its checkpoint (a kill from then on resumes after
     * it). */
    const double t_start = util_seconds() - elapsed0;
    int warned_convergence = 0;
    while (!session_done(&S)) {
        RoundRecord rec;
        if (signals_pending() || (rc = session_round(&S, &rec, err, errlen)) == 1) {
            const int done = S.round - 1;
            session_close(&S);
            results_suspend(&res);
            *outcome = RUN_INTERRUPTED;
            const char *sig = signals_pending() == SIGINT ? "SIGINT" : "SIGTERM";
            if (done < 0)
                fprintf(stderr, "alsim: stopped by %s before round 0 of %s was complete; the same command (with or "
                        "without --resume) starts it again\n", sig, run_id);
            else
                fprintf(stderr, "alsim: stopped by %s after round %d of %s; the same command with --resume continues it\n",
                        sig, done, run_id);
            return 0;
        }
        if (rc) goto fail;
        results_round(&res, &rec);
        char look[128] = "";    /* a look-ahead strategy says so on every line */
        if (rec.lookahead && rec.lookahead->chosen >= 0)
            snprintf(look, sizeof look, " | label look-ahead: %s of %d, %d refits", rec.lookahead->name[rec.lookahead->chosen],
                     rec.lookahead->n, rec.lookahead_fits);
        if (!cfg->quiet)
            fprintf(stderr, "alsim: %s %s seed %llu | round %3d/%d | labels %6d | acc %.4f | train %.2fs score %.2fs | %.1fs%s\n",
                    pool->name, S.st ? S.st->name : "full-data", (unsigned long long)seed, rec.round, S.R,
                    rec.n_labeled, rec.test.accuracy, rec.ledger.train_s, rec.ledger.score_s, util_seconds() - t_start, look);
        if (rec.ledger.spent.converged == 0 && cfg->early_stop <= 0 && !warned_convergence++)     /* once a run */
            fprintf(stderr, "alsim: warning: %s seed %llu: the %s fit stopped short of --tol %g in round %d (%d of "
                    "--max-iter %d iterations); rounds.jsonl says which rounds (\"converged\": false). "
                    "--standardize or a larger --max-iter may help\n", pool->name, (unsigned long long)seed,
                    cfg->model, cfg->tol, rec.round, rec.ledger.spent.steps, cfg->max_iter);
        if (rec.diverged)
            fprintf(stderr, "alsim: %s seed %llu diverged in round %d (loss %g): stopped; summary.json says so\n",
                    pool->name, (unsigned long long)seed, rec.round, rec.train_loss);
        if (session_checkpoint(&S, &ck) != 0) {
            snprintf(err, errlen, "out of memory for the checkpoint of %s", run_id);
            rc = ALSIM_RUNTIME;
            goto fail;
        }
        ck.inputs = inputs;
        ck.elapsed = util_seconds() - t_start;
        if ((rc = results_checkpoint(&res, &ck, err, errlen))) goto fail;
        resumable = 1;
    }

    const int n = S.rounds_done;
    Summary s = {
        .status = S.diverged ? "diverged" : "ok", .rounds_done = n,
        .aulc = metrics_aulc(S.curve_x, S.curve_acc, n),
        .target = cfg->target,
        .labels_to_target = cfg->target > 0 ? metrics_labels_to_target(S.curve_x, S.curve_acc, n, cfg->target) : -1,
        .final = S.last, .final_labeled = (int)S.curve_x[n - 1],
        .queries = S.oracle.queries, .seconds = util_seconds() - t_start,
    };
    *outcome = S.diverged ? RUN_DIVERGED : RUN_OK;
    session_close(&S);
    if ((rc = results_finish(&res, &s, err, errlen))) return rc;
    if (!cfg->quiet) fprintf(stderr, "alsim: wrote %s (AULC %.4f, final accuracy %.4f)\n", res.dir, s.aulc, s.final.accuracy);
    return 0;

fail:   /* keep what a checkpoint already made resumable; discard a run with none */
    session_close(&S);
fail_closed:
    if (resumable) results_suspend(&res); else results_abort(&res);
    return rc;
}
